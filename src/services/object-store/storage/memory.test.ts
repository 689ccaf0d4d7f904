import { runClusterContract } from './contract.test-suite.js';
import { MemoryCluster } from './memory.js';

runClusterContract('memory', async () => ({ cluster: new MemoryCluster() }));
