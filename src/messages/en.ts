// English page text: every word a visitor or member of staff reads on a page. Another language is another file
// with the same shape (see ./index.ts); mail text lives with the mail templates.
export const en = {
  lang: 'en',
  privacyLink: 'Privacy policy',
  errorPrefix: 'Error:',
  signup: {
    title: 'Join our mailing list',
    heading: (list: string) => `Join ${list}`,
    intro: (list: string) => `Get news from ${list} by email. We will send you a link to confirm your subscription.`,
    emailLabel: 'Email address',
    nameLabel: 'Name (optional)',
    button: 'Subscribe',
    errorSummaryTitle: 'There is a problem',
    tooFast: 'Please press Subscribe again: that was quicker than we expect from a person typing.',
    crossSite: (site: string) => `This form can only be sent from ${site} or from the websites its owner allows. Go to ${site} to sign up.`,
    listsLegend: 'Which emails would you like?',
    listsHint: 'Choose one or more.',
    listsNone: 'Choose at least one list to join.',
    listsRefused: (slugs: string) => `These lists cannot be joined here: ${slugs}. Choose from the lists on the form.`
  },
  manage: {
    title: 'Your subscriptions',
    intro: 'Tick the lists you want emails from, untick the ones you do not, and save.',
    legend: 'Your lists',
    waiting: '(waiting for you to confirm)',
    save: 'Save my choices',
    saved: 'Your choices are saved.',
    leaveAll: 'Leave all lists',
    leaveAllHint: 'Or stop all emails from us at once:'
  },
  thanks: {
    title: 'Check your email',
    body: (list: string) => `If the address can join ${list}, a link to confirm your subscription has been emailed to it.`,
    next: 'Open the email and press the button in it. You are not subscribed until you do.',
    spam: 'No email after a few minutes? Check your spam folder.'
  },
  confirm: {
    title: 'Confirm your subscription',
    body: (list: string) => `Press the button to join ${list}.`,
    button: 'Confirm subscription'
  },
  confirmed: {
    title: "You're subscribed",
    body: (list: string) => `Thank you. You will now get emails from ${list}.`,
    already: (list: string) => `You had already confirmed: you are on the ${list} list.`,
    leave: 'Every email has a link to unsubscribe.'
  },
  unsubscribe: {
    title: 'Unsubscribe',
    body: (list: string) => `Press the button to stop getting emails from ${list}.`,
    button: 'Unsubscribe',
    leaveAllHint: 'You are on other lists too. To stop every email from us:',
    leaveAll: 'Leave all lists',
    manage: 'Choose which lists you are on',
    eraseHint: 'You can also have everything we hold about you deleted. We then keep only a scrambled fingerprint of your address, so it is never added back unless you sign up again yourself.',
    eraseButton: 'Unsubscribe and delete my data'
  },
  erased: {
    title: 'Your data is deleted',
    body: (list: string) => `You are unsubscribed from ${list}, and we deleted your address and everything we held about you.`
  },
  unsubscribed: {
    title: "You're unsubscribed",
    body: (list: string) => `You won't hear from ${list} again.`,
    resubscribe: 'Changed your mind?',
    resubscribeLink: 'Sign up again'
  },
  invalidLink: {
    expiredTitle: 'This link has expired',
    invalidTitle: 'This link does not work',
    expired: 'Confirmation links work for a limited time. Enter your email address and we will send you a new one.',
    invalid: 'The link may be incomplete or already used. Check you copied the whole link, or enter your email address and we will send you a new one.',
    button: 'Send me a new link'
  },
  errors: {
    backHome: 'Go to the signup page',
    titles: {
      404: 'Page not found',
      429: 'Too many requests',
      500: 'Something went wrong',
      503: 'Service unavailable',
      other: 'There is a problem'
    } as Record<number | 'other', string>,
    bodies: {
      404: 'There is nothing at this address. If you typed it, check it is correct.',
      429: 'You have sent too many requests. Wait a minute and try again.',
      500: 'Something went wrong on our side. Try again later.',
      503: 'The service is briefly unavailable. Try again in a minute.'
    } as Record<number, string>
  },
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
    origins: (origins: string) => `Sites that may sign people up with JavaScript (ALLOWED_ORIGINS): ${origins}.`,
    noOrigins: 'No sites are allowed to sign people up with JavaScript yet (ALLOWED_ORIGINS is empty): the form still works as a normal form post.',
    sourceHint: 'Change the value of "source" to tell your forms apart in the export.'
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

export type Messages = typeof en
