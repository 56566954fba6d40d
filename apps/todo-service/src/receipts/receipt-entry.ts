import type { ReceiptEntry } from '@app/contracts';

/** A stream entry's flat field list ([k1, v1, k2, v2, …]) as a receipt; undefined if it has no eventId. */
export function parseReceiptFields(fields: string[]): (ReceiptEntry & { ackedDate: Date }) | undefined {
  const record: Record<string, string> = {};
  for (let index = 0; index + 1 < fields.length; index += 2) {
    record[fields[index]] = fields[index + 1];
  }
  if (!record.eventId) {
    return undefined;
  }
  const parsed = record.ackedAt ? new Date(record.ackedAt) : new Date(Number.NaN);
  const ackedDate = Number.isNaN(parsed.getTime()) ? new Date() : parsed;
  return {
    eventId: record.eventId,
    userid: record.userid ?? '',
    type: record.type ?? '',
    ackedAt: ackedDate.toISOString(),
    ackedDate,
  };
}
