import { describeManagedRedisSuite } from '@hilok/contract-tests';
import { nodeRedis4, nodeRedis5Resp2, nodeRedis6Resp3 } from './drivers.js';

// TLS + least-privilege ACL (docs/managed-redis.md): every lock kind, and the NOPERM messages.
for (const driver of [nodeRedis4, nodeRedis5Resp2, nodeRedis6Resp3]) describeManagedRedisSuite(driver);
