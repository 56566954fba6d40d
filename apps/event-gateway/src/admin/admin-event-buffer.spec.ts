import { AdminEventBuffer } from './admin-event-buffer';

describe('AdminEventBuffer (the Admin UI statistics, tallied per second)', () => {
  const T = Date.UTC(2026, 10, 27, 1, 0, 0);

  beforeEach(() => {
    jest.useFakeTimers({ now: T + 200 });
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  it('sums the packets and bytes of one second into one entry each, as the Admin UI does', () => {
    const buffer = new AdminEventBuffer();
    for (let i = 0; i < 1_000; i += 1) {
      buffer.countOut('42["downstream",{}]');
      buffer.countIn(Buffer.from('430[]'));
    }
    buffer.countOut('é');
    expect(buffer.getValuesAndClear()).toEqual(
      expect.arrayContaining([
        { timestamp: T, type: 'packetsOut', subType: undefined, count: 1_001 },
        { timestamp: T, type: 'bytesOut', subType: undefined, count: 19_002 },
        { timestamp: T, type: 'packetsIn', subType: undefined, count: 1_000 },
        { timestamp: T, type: 'bytesIn', subType: undefined, count: 5_000 },
      ]),
    );
    expect(buffer.getValuesAndClear()).toEqual([]);
  });

  it('dates each tally by the second it was counted in, not the second it was collected in', () => {
    const buffer = new AdminEventBuffer();
    buffer.countIn('abc');
    jest.setSystemTime(T + 1_500);
    buffer.countIn('de');
    buffer.countOut('f');
    jest.setSystemTime(T + 3_100);
    expect(buffer.getValuesAndClear()).toEqual(
      expect.arrayContaining([
        { timestamp: T, type: 'packetsIn', subType: undefined, count: 1 },
        { timestamp: T, type: 'bytesIn', subType: undefined, count: 3 },
        { timestamp: T + 1_000, type: 'packetsIn', subType: undefined, count: 1 },
        { timestamp: T + 1_000, type: 'bytesIn', subType: undefined, count: 2 },
        { timestamp: T + 1_000, type: 'packetsOut', subType: undefined, count: 1 },
        { timestamp: T + 1_000, type: 'bytesOut', subType: undefined, count: 1 },
      ]),
    );
  });

  it('keeps the other events as pushed, by sub-type, beside the tallies', () => {
    const buffer = new AdminEventBuffer();
    buffer.push('rawConnection');
    buffer.push('rawConnection');
    buffer.push('rawDisconnection', 'transport close');
    buffer.push('rawDisconnection', 'ping timeout');
    expect(buffer.getValuesAndClear()).toEqual([
      { timestamp: T, type: 'rawConnection', subType: undefined, count: 2 },
      { timestamp: T, type: 'rawDisconnection', subType: 'transport close', count: 1 },
      { timestamp: T, type: 'rawDisconnection', subType: 'ping timeout', count: 1 },
    ]);
  });
});
