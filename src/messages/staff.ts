// Staff pages' words (dashboard, embed page, API docs, webhooks, the cross-site refusal) in the reader's language,
// from the catalogue's `console` keys (locales/<lang>/messages.json), shaped as the pages use them.
import type { Messages } from './index.js'

export function staffIn (m: Messages) {
  return {
    webhooks: {
      title: m.t('console.webhooks.title'),
      intro: m.t('console.webhooks.intro'),
      none: m.t('console.webhooks.none'),
      url: m.t('console.webhooks.url'),
      events: m.t('console.webhooks.events'),
      list: m.t('console.webhooks.list'),
      allLists: m.t('console.webhooks.allLists'),
      state: m.t('console.webhooks.state'),
      on: m.t('console.webhooks.on'),
      off: (reason: string | null) => reason ? m.t('console.webhooks.offBecause', { reason }) : m.t('console.webhooks.off'),
      turnOn: m.t('console.webhooks.turnOn'),
      turnOff: m.t('console.webhooks.turnOff'),
      deliveries: (url: string) => m.t('console.webhooks.deliveries', { url }),
      noDeliveries: m.t('console.webhooks.noDeliveries'),
      event: m.t('console.webhooks.event'),
      status: m.t('console.webhooks.status'),
      tries: m.t('console.webhooks.tries'),
      code: m.t('console.webhooks.code'),
      time: m.t('console.webhooks.time'),
      retry: m.t('console.webhooks.retry'),
      add: m.t('console.webhooks.add'),
      urlHint: m.t('console.webhooks.urlHint'),
      listHint: m.t('console.webhooks.listHint'),
      addButton: m.t('console.webhooks.addButton'),
      added: m.t('console.webhooks.added'),
      secretOnce: m.t('console.webhooks.secretOnce'),
      back: m.t('console.webhooks.back'),
      pickEvent: m.t('console.webhooks.pickEvent'),
      badList: m.t('console.webhooks.badList')
    },
    crossSite: {
      title: m.t('console.crossSite.title'),
      body: m.t('console.crossSite.body'),
      link: m.t('console.crossSite.link'),
      noLink: m.t('console.crossSite.noLink')
    },
    embed: {
      title: m.t('console.embed.title'),
      intro: m.t('console.embed.intro'),
      snippetLabel: m.t('console.embed.snippetLabel'),
      sourceHint: m.t('console.embed.sourceHint'),
      styleHint: m.t('console.embed.styleHint')
    },
    dashboard: {
      title: m.t('console.dashboard.title'),
      subscribers: m.t('console.dashboard.subscribers'),
      status: m.t('console.dashboard.status'),
      count: m.t('console.dashboard.count'),
      statuses: { confirmed: m.t('console.dashboard.statuses.confirmed'), pending: m.t('console.dashboard.statuses.pending'), unsubscribed: m.t('console.dashboard.statuses.unsubscribed') } as Record<string, string>,
      all: m.t('console.dashboard.all'),
      download: m.t('console.dashboard.download'),
      downloadStatus: (status: 'confirmed' | 'pending' | 'unsubscribed' | 'all') => m.t(`console.dashboard.downloadStatus.${status}`),
      downloads: m.t('console.dashboard.downloads'),
      downloadExcel: m.t('console.dashboard.downloadExcel'),
      excelHint: m.t('console.dashboard.excelHint'),
      rate: m.t('console.dashboard.rate'),
      rateText: (confirmed: number, total: number, percent: string) => m.t('console.dashboard.rateText', { confirmed, total, percent }),
      rateNone: m.t('console.dashboard.rateNone'),
      chart: m.t('console.dashboard.chart'),
      chartSummary: (total: number, confirmed: number, pending: number) => m.t('console.dashboard.chartSummary', { total, confirmed, pending }),
      chartTable: m.t('console.dashboard.chartTable'),
      day: m.t('console.dashboard.day'),
      confirmed: m.t('console.dashboard.confirmed'),
      pending: m.t('console.dashboard.pending'),
      signups: m.t('console.dashboard.signups'),
      noDays: m.t('console.dashboard.noDays'),
      mail: m.t('console.dashboard.mail'),
      backlog: m.t('console.dashboard.backlog'),
      dead: m.t('console.dashboard.dead'),
      sent: m.t('console.dashboard.sent'),
      deadHint: m.t('console.dashboard.deadHint'),
      links: m.t('console.dashboard.links'),
      embedLink: m.t('console.dashboard.embedLink'),
      docsLink: m.t('console.dashboard.docsLink')
    },
    docs: {
      title: m.t('console.docs.title'),
      intro: m.t('console.docs.intro'),
      method: m.t('console.docs.method'),
      path: m.t('console.docs.path'),
      responses: m.t('console.docs.responses'),
      request: m.t('console.docs.request'),
      field: m.t('console.docs.field'),
      type: m.t('console.docs.type'),
      required: m.t('console.docs.required'),
      yes: m.t('console.docs.yes'),
      no: m.t('console.docs.no')
    }
  }
}

export type StaffMessages = ReturnType<typeof staffIn>
