import { MemoryStorage } from "./memory-storage.ts";
import { describeStorageContract } from "./storage-contract.ts";

describeStorageContract("MemoryStorage", () => new MemoryStorage());
