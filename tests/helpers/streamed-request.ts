/**
 * A POST whose body arrives as a stream, without Content-Length: `chunks` in
 * order, then the end — a clean close, or an error as when the client's
 * connection drops mid-upload. `sent()` is how many chunks the handler pulled.
 */
export function streamedPost(
  url: string,
  headers: Record<string, string>,
  chunks: readonly Uint8Array[],
  end: "close" | Error = "close",
): { request: Request; sent: () => number } {
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent < chunks.length) controller.enqueue(chunks[sent++]);
      else if (end === "close") controller.close();
      else controller.error(end);
    },
  });
  const request = new Request(url, { method: "POST", headers, body, duplex: "half" } as RequestInit & { duplex: "half" });
  return { request, sent: () => sent };
}
