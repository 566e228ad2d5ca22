// Slipway's drivers: environments on podman containers wherever podman works, local otherwise.
import { ContainersDriver, podmanDir } from './containers/containers-driver.ts';
import { podmanProblem } from './containers/podman.ts';
import { TopologyDrivers } from './drivers.ts';
import { LocalDriver, type LocalDriverOptions } from './local/local-driver.ts';

export function topologyDrivers(options: LocalDriverOptions): TopologyDrivers {
  return new TopologyDrivers({
    local: new LocalDriver(options),
    containers: new ContainersDriver(options),
    containersProblem: () => podmanProblem(podmanDir(options.dataDir)),
  });
}
