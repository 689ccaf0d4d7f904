import { MemoryImageStore } from './memory.js';
import { runStoreContract } from './contract.test-suite.js';

runStoreContract('memory', async () => ({ store: new MemoryImageStore(), cleanup: async () => undefined }));
