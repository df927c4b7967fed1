// The import page: a CSV file uploaded into a list, and the import's report (the same as the API's and the CLI's).
import { html } from '../../html.js'
import type { ImportReport } from '../../domain/import.js'
import type { List } from '../../domain/lists.js'
import { consolePage, csrfField, type ConsoleContext } from './frame.js'

export function importPage (c: ConsoleContext, lists: List[], outcome?: { report: ImportReport } | { error: string }): string {
  const { m } = c.page
  const report = outcome && 'report' in outcome ? outcome.report : undefined
  const card = (n: number, key: 'read' | 'added' | 'updated' | 'unchanged' | 'suppressed' | 'invalid' | 'duplicates') =>
    html`<li><strong>${n}</strong> ${m.t(`console.import.rows.${key}`, { count: n })}</li>`
  return consolePage(c, m.t('console.import.title'), html`
<h1>${m.t('console.import.heading')}</h1>
${outcome && 'error' in outcome ? html`<p class="error" role="alert">${outcome.error}</p>` : ''}
${report
? html`<h2 id="report">${m.t(report.dryRun ? 'console.import.dryRunInto' : 'console.import.importedInto', { list: report.list })}</h2>
<ul class="cards">
${card(report.rows.read, 'read')}
${card(report.rows.added, 'added')}
${card(report.rows.updated, 'updated')}
${card(report.rows.unchanged, 'unchanged')}
${card(report.rows.suppressed, 'suppressed')}
${card(report.rows.invalid, 'invalid')}
${card(report.rows.duplicates, 'duplicates')}
</ul>
<p>${m.t('console.import.withoutEvidence', { count: report.withoutEvidence })} ${m.t('console.import.queued', { count: report.confirmationsQueued })} ${m.t('console.import.sha256')} <code>${report.file.sha256}</code>.</p>
${report.problems.length === 0
  ? html`<p>${m.t('console.import.noProblems')}</p>`
  : html`<div class="table-scroll" tabindex="0" role="region" aria-labelledby="problems"><table>
<caption id="problems">${m.t('console.import.problems', { count: report.problems.length })}</caption>
<thead><tr><th scope="col" class="num">${m.t('console.import.line')}</th><th scope="col">${m.t('console.import.column')}</th><th scope="col">${m.t('console.import.problem')}</th></tr></thead>
<tbody>${report.problems.map((p) => html`<tr><td class="num">${p.line}</td><td>${p.column ?? ''}</td><td>${p.reason}</td></tr>`)}</tbody>
</table></div>`}`
: ''}
<p>${m.t('console.import.intro').split('{column}').map((part, i) => i === 0 ? html`${part}` : html`<code>email</code>${part}`)}</p>
<form method="post" action="/admin/import" enctype="multipart/form-data">
${csrfField(c)}
<div><label for="list">${m.t('console.import.list')}</label><select id="list" name="list">${lists.map((l) => html`<option value="${l.slug}">${l.name} (${l.slug})</option>`)}</select></div>
<div class="checkbox"><input type="checkbox" id="dryRun" name="dryRun" value="true" checked><label for="dryRun">${m.t('console.import.dryRun')}</label></div>
<div><label for="file">${m.t('console.import.file')}</label><input type="file" id="file" name="file" accept=".csv,text/csv" required></div>
<button type="submit">${m.t('console.import.button')}</button>
</form>`)
}
