import { defineConfig } from "vitest/config";

// Tests run against the TypeScript sources of every workspace: the "@lockfleet/source"
// export condition points each package at src/index.ts, so no build is needed first.
// No "import" condition here: vitest hands these to Node as --conditions, and there it would
// also apply to require() inside CommonJS packages (pg loads pg-pool's ES module and breaks);
// import and require add their own condition anyway.
export default defineConfig({
  resolve: { conditions: ["@lockfleet/source", "node", "default"] },
  ssr: { resolve: { conditions: ["@lockfleet/source", "node", "default"] } },
  test: {
    include: ["*/test/**/*.test.ts"],
    environment: "node",
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: "forks",
    // Vitest's default on a 2-core machine is one worker (cores - 1): every file ran in turn.
    // Most of the long files wait on sockets, child processes and timers, not on the CPU, so
    // three workers share two cores well; tests assert behaviour, never speed.
    maxWorkers: 3,
  },
});
