// `slipway serve` and `slipway demo`. The server's modules load only when one of these runs,
// so the client commands start fast.
import type { Command } from 'commander';

export function registerServerCommands(program: Command): void {
  program.command('serve')
    .description('run Slipway (API, engine and UI) with the configuration from SLIPWAY_* variables')
    .action(async () => {
      const { closeOnSignals, startServer } = await import('../../server.ts');
      const { serverConfig } = await import('../server-config.ts');
      const { handleProcessFaults } = await import('../process-faults.ts');
      handleProcessFaults((line) => console.error(`[slipway] ${line}`));
      const server = await startServer(serverConfig());
      closeOnSignals(server);
      console.log(`UI: ${server.url}/ui/`);
    });

  program.command('demo')
    .description('serve, seed the demo program (sample site, stage, prod, a production pipeline) and print a sign-in link')
    .action(async () => {
      const { closeOnSignals, startServer } = await import('../../server.ts');
      const { serverConfig } = await import('../server-config.ts');
      const { handleProcessFaults } = await import('../process-faults.ts');
      handleProcessFaults((line) => console.error(`[slipway] ${line}`));
      const { seedDemo } = await import('../../demo/seed.ts');
      const server = await startServer(serverConfig());
      closeOnSignals(server);
      console.log('Checking the demo (the first run creates a git repository and two environments)…');
      const seed = await seedDemo(server.slipway, { log: (line) => console.log(line) });
      console.log(seed.created ? 'Demo ready.' : 'Demo already seeded.');
      console.log(`\nOpen the UI: ${server.url}/ui/#token=${encodeURIComponent(server.adminToken)}`);
      console.log(`Pipeline "${seed.pipeline.name}" (program ${seed.programId}, pipeline ${seed.pipeline.id}): press Deploy.\n`);
    });

  program.command('rotate-secrets-key')
    .description('re-encrypt every secret variable with a new key, in one transaction (stop Slipway first). With a key file, '
      + 'a new key replaces it; with SLIPWAY_SECRETS_KEY, give the new key in SLIPWAY_SECRETS_NEW_KEY, then set SLIPWAY_SECRETS_KEY to it')
    .action(async () => {
      const { rotateSecretsKeyCommand } = await import('../server-config.ts');
      console.log(await rotateSecretsKeyCommand());
    });

  program.command('rotate-signing-key')
    .description('replace the URL-signing key in SLIPWAY_DATA: every signed log and artifact link given out so far stops working')
    .action(async () => {
      const { loadConfig } = await import('../../config.ts');
      const { rotateSigningKey, signingKeyFile } = await import('../../api/signing.ts');
      const { dataDir } = loadConfig();
      rotateSigningKey(dataDir);
      console.log(`New URL-signing key in ${signingKeyFile(dataDir)}; links signed before no longer work.`);
    });
}
