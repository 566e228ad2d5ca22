// Runs once before the suite: nothing global yet; servers are started per test file.
export default function setup(): void {}
