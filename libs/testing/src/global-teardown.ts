export default async function globalTeardown(): Promise<void> {
  const handles = globalThis.__DOWNSTREAM_SERVERS__ ?? [];
  await Promise.all(handles.map((handle) => handle.stop()));
}
