import Redis from 'ioredis';
import { MongoClient, MongoServerError } from 'mongodb';
import { createServer, type Server } from 'node:net';
import { ownsListener, startRedisServer, testNamespace, waitFor } from '@app/testing';

describe('the backing servers the harness provides are real', () => {
  const ns = testNamespace();

  it('MongoDB: a document written on one connection is read on another, and a unique index rejects a duplicate with 11000', async () => {
    const writer = await MongoClient.connect(ns.mongoUri);
    const reader = await MongoClient.connect(ns.mongoUri);
    try {
      const written = writer.db().collection('proof');
      await written.createIndex({ key: 1 }, { unique: true });
      await written.insertOne({ key: 'a', nested: { list: [1, 2, { deep: null }] } });

      const read = await reader
        .db()
        .collection('proof')
        .findOne({ key: 'a' }, { projection: { _id: 0 } });
      expect(read).toEqual({ key: 'a', nested: { list: [1, 2, { deep: null }] } });

      const duplicate = await written.insertOne({ key: 'a' }).catch((error: unknown) => error);
      expect(duplicate).toBeInstanceOf(MongoServerError);
      expect((duplicate as MongoServerError).code).toBe(11000);
    } finally {
      await writer.db().dropDatabase();
      await Promise.all([writer.close(), reader.close()]);
    }
  });

  it('Redis: a message published on one connection reaches a subscriber on another, and keys are shared', async () => {
    const publisher = new Redis(ns.redisUrl, { keyPrefix: ns.redisKeyPrefix });
    const subscriber = new Redis(ns.redisUrl);
    try {
      const channel = `${ns.redisKeyPrefix}proof`;
      const received: string[] = [];
      subscriber.on('message', (_channel: string, message: string) => received.push(message));
      await subscriber.subscribe(channel);
      await publisher.publish(channel, 'hello across connections');
      await waitFor(() => received.length > 0, { description: 'the pub/sub message' });
      expect(received).toEqual(['hello across connections']);

      await publisher.set('shared', 'value');
      const other = new Redis(ns.redisUrl);
      expect(await other.get(`${ns.redisKeyPrefix}shared`)).toBe('value');
      other.disconnect();
    } finally {
      publisher.disconnect();
      subscriber.disconnect();
    }
  });
});

describe('a harness server started again on its port', () => {
  function listen(port: number): Promise<Server> {
    return new Promise((resolve, reject) => {
      const server = createServer((socket) => socket.destroy());
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve(server));
    });
  }

  it('fails when another process took the port meanwhile, instead of answering through that process', async () => {
    const redis = await startRedisServer();
    try {
      expect(ownsListener(redis.pid!, redis.port)).toBe(true);
      expect(ownsListener(process.pid, redis.port)).toBe(false);
      await redis.stop();
      const squatter = await listen(redis.port);
      try {
        expect(ownsListener(process.pid, redis.port)).toBe(true);
        await expect(redis.start()).rejects.toThrow(/redis exited with/);
      } finally {
        await new Promise((resolve) => squatter.close(resolve));
      }
      await redis.start();
      expect(ownsListener(redis.pid!, redis.port)).toBe(true);
    } finally {
      await redis.dispose();
    }
  });
});
