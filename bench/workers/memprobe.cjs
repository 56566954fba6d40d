// Preloaded (node --expose-gc -r memprobe.cjs) into measured servers that were spawned with an IPC
// channel: on { cmd: 'mem' } it runs a full GC and answers process.memoryUsage(). It does nothing else.
'use strict';
if (typeof process.send === 'function') {
  process.on('message', (message) => {
    if (message && message.cmd === 'mem') {
      if (typeof global.gc === 'function') {
        global.gc();
        global.gc();
      }
      process.send({ id: message.id, mem: process.memoryUsage() });
    } else if (message && message.cmd === 'snapshot' && typeof message.path === 'string') {
      const file = require('node:v8').writeHeapSnapshot(message.path);
      process.send({ id: message.id, file });
    }
  });
  // Never keep the process alive because of the channel.
  process.channel?.unref?.();
}
