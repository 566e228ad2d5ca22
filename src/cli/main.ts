// The `slipway` command. Exit codes: 0 ok, 1 general, 2 configuration, 3 refused/validation,
// 4 not found, 5 execution failed. See program.ts for the commands.
import { EXIT } from './exit-codes.ts';
import { main } from './program.ts';

const code = await main(process.argv.slice(2));
// serve/demo keep running (the listening server holds the event loop); clients end here.
if (code !== EXIT.ok) process.exit(code);
else process.exitCode = code;
