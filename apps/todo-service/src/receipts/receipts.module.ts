import { Module } from '@nestjs/common';
import { makeHistogramProvider } from '@willsoto/nestjs-prometheus';
import { OutboxModule } from '../outbox/outbox.module';
import { ACK_LATENCY_METRIC, ReceiptsConsumer } from './receipts.consumer';

@Module({
  imports: [OutboxModule],
  providers: [
    ReceiptsConsumer,
    makeHistogramProvider({
      name: ACK_LATENCY_METRIC,
      help: "Seconds from a todo's completion to its user's acknowledgement of the todo.completed event",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400],
    }),
  ],
})
export class ReceiptsModule {}
