import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/**
 * Who is delivering an event right now. One document per event being delivered, keyed by the
 * event id: the unique `_id` makes taking a lease an insert that only one replica can win, on
 * MongoDB and on servers whose conditional updates are not atomic alike. Deleted when released;
 * an expired lease is taken over.
 */
@Schema({ collection: 'outbox_leases', versionKey: false })
export class OutboxLease {
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ type: String, required: true })
  holder!: string;

  @Prop({ type: Date, required: true })
  until!: Date;
}

export const OutboxLeaseSchema = SchemaFactory.createForClass(OutboxLease);
