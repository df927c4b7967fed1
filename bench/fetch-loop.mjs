// The webhook bench's reference: a plain loop of fetch POSTs, CONCURRENCY at a time, of COUNT bodies the size of a
// confirmed event, each with its own webhook-id, to the same receiver. No database, no signing: the plain limit.
const url = process.env.URL
const count = Number(process.env.COUNT)
const concurrency = Number(process.env.CONCURRENCY)
const body = JSON.stringify({ type: 'subscription.confirmed', timestamp: new Date().toISOString(), data: JSON.parse(process.env.DATA) })

process.on('message', async (msg) => {
  if (msg.cmd !== 'go') return
  let next = 0
  let failed = 0
  async function lane () {
    while (next < count) {
      const i = next++
      try {
        const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', 'webhook-id': `ref_${process.pid}_${i}` } })
        await res.arrayBuffer()
        if (!res.ok) failed++
      } catch { failed++ }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane))
  process.send({ type: 'sent', failed })
})
process.send({ type: 'ready' })
