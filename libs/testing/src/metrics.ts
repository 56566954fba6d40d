/**
 * How many requests `http_server_request_duration_seconds` has counted for one method, route and
 * status on the service at `baseUrl` (0 when the series does not exist yet).
 */
export async function countedRequests(
  baseUrl: string,
  method: string,
  route: string,
  status: number,
): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith('http_server_request_duration_seconds_count{') &&
        l.includes(`method="${method}"`) &&
        l.includes(`route="${route}"`) &&
        l.includes(`status="${status}"`),
    );
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}
