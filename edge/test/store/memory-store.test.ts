/** The in-memory store the lock core's unit tests use keeps the same contract as the SQLite one. */
import { MemoryLockStore } from "../../src/store/memory-store.js";
import { CONTRACT_DEVICE, describeLockStoreContract } from "./lock-store.contract.js";

describeLockStoreContract("MemoryLockStore", () => ({
  create: (options) => new MemoryLockStore(CONTRACT_DEVICE, options),
  reopenClean: (store) => {
    store.close();
    return (store as MemoryLockStore).reopen(true);
  },
  reopenAfterCrash: (store) => (store as MemoryLockStore).reopen(false),
}));
