import { describeManagedRedisSuite } from '@hilok/contract-tests';
import { ioredis5, ioredis6, iovalkey } from './drivers.js';

// TLS + least-privilege ACL (docs/managed-redis.md): every lock kind, and the NOPERM messages.
for (const driver of [ioredis5, ioredis6, iovalkey]) describeManagedRedisSuite(driver);
