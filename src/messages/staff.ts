// Staff pages' words (dashboard, embed page, API docs, the cross-site refusal): English only, as the staff
// console is. Visitor and subscriber text is in the per-language catalogues (locales/<lang>/messages.json).
export const staff = {
  webhooks: {
    title: 'Webhooks',
    intro: 'Each event (a sign-up, a confirmation, an unsubscribe, an erasure) is sent, signed, to these addresses, at least once and in order per subscriber. Tools that pull can read the same events from the changes feed, GET /admin/api/changes.',
    none: 'No webhook endpoints yet.',
    url: 'Target URL',
    events: 'Events',
    list: 'List',
    allLists: 'all lists',
    state: 'State',
    on: 'On',
    off: (reason: string | null) => reason ? `Off: ${reason}` : 'Off',
    turnOn: 'Turn on',
    turnOff: 'Turn off',
    deliveries: (url: string) => `Recent deliveries to ${url}`,
    noDeliveries: 'No deliveries yet.',
    event: 'Event',
    status: 'Status',
    tries: 'Tries',
    code: 'Last answer',
    time: 'Time',
    retry: 'Retry',
    add: 'Add an endpoint',
    urlHint: 'https only; addresses on private networks are refused unless WEBHOOK_ALLOW_PRIVATE_TARGETS is true.',
    listHint: 'A list slug such as main; empty for every list.',
    addButton: 'Add endpoint',
    added: 'Endpoint added',
    secretOnce: 'This is the signing secret. It is shown this once: copy it into the receiver now.',
    back: 'Back to webhooks'
  },
  crossSite: {
    title: 'Open this page from this site',
    body: 'You came to a staff page from another website. Staff pages open only from this site, so that no other website can make your browser download the list or read staff data while you are logged in.',
    link: 'Open the page here',
    noLink: 'Go back to the dashboard and try again from there.'
  },
  embed: {
    title: 'Add the signup form to your website',
    intro: 'Copy this HTML into any page of your website. It works as a normal form; when JavaScript is available it signs people up without leaving the page and shows the result next to the button.',
    snippetLabel: 'HTML snippet',
    sourceHint: 'Change the value of "source" to tell your forms apart in the export, and "lang" to the language of your page (add ?lang=cy to this page for the Welsh snippet).',
    styleHint: 'The stylesheet line is optional: leave it out to style the form with your own CSS. Only the sites listed in ALLOWED_ORIGINS can sign people up with JavaScript; on any other the form still works as a normal post.'
  },
  dashboard: {
    title: 'Subscribers dashboard',
    subscribers: 'Subscribers',
    status: 'Status',
    count: 'Count',
    statuses: { confirmed: 'Confirmed', pending: 'Pending', unsubscribed: 'Unsubscribed' } as Record<string, string>,
    all: 'All',
    download: 'Download CSV',
    downloadStatus: (status: string) => `Download ${status.toLowerCase()} subscribers (CSV)`,
    downloads: 'Downloads',
    downloadExcel: 'Download all subscribers for Excel (CSV)',
    excelHint: 'The Excel file has the same columns, with a marker that tells Excel on Windows the text is UTF-8, so accented names such as Siân Llŷr show right. Other programs read the plain CSV.',
    rate: 'Confirmation rate',
    rateText: (confirmed: number, total: number, percent: string) =>
      `${confirmed} of ${total} sign-ups in the last 90 days confirmed (${percent}).`,
    rateNone: 'No sign-ups in the last 90 days.',
    chart: 'Sign-ups per day, last 90 days',
    chartSummary: (total: number, confirmed: number, pending: number) =>
      `${total} sign-ups in the last 90 days: ${confirmed} confirmed, ${pending} still pending. The table below has the numbers for each day.`,
    chartTable: 'Sign-ups per day (days with sign-ups only)',
    day: 'Day',
    confirmed: 'Confirmed',
    pending: 'Pending',
    signups: 'Sign-ups',
    noDays: 'No sign-ups in the last 90 days.',
    mail: 'Outgoing mail',
    backlog: 'Waiting to be sent',
    dead: 'Failed for good (dead)',
    sent: 'Sent',
    deadHint: 'Failed mail is not retried. Check the SMTP settings and the log for the reason.',
    links: 'More',
    embedLink: 'Embeddable signup form',
    docsLink: 'API documentation'
  },
  docs: {
    title: 'API documentation',
    intro: 'Every endpoint of this service. The same description as OpenAPI 3 is at',
    method: 'Method',
    path: 'Path',
    responses: 'Responses',
    request: 'Request',
    field: 'Field',
    type: 'Type',
    required: 'Required',
    yes: 'yes',
    no: 'no'
  }
}

export type StaffMessages = typeof staff
