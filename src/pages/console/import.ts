// The import page: a CSV file uploaded into a list, and the import's report (the same as the API's and the CLI's).
import { html } from '../../html.js'
import type { ImportReport } from '../../domain/import.js'
import type { List } from '../../domain/lists.js'
import { consolePage, csrfField, type ConsoleContext } from './frame.js'

export function importPage (c: ConsoleContext, lists: List[], outcome?: { report: ImportReport } | { error: string }): string {
  const report = outcome && 'report' in outcome ? outcome.report : undefined
  return consolePage(c, 'Import', html`
<h1>Import a list</h1>
${outcome && 'error' in outcome ? html`<p class="error" role="alert">${outcome.error}</p>` : ''}
${report
? html`<h2 id="report">${report.dryRun ? 'Dry run: nothing was changed' : 'Imported'} into ${report.list}</h2>
<ul class="cards">
<li><strong>${report.rows.read}</strong> rows read</li>
<li><strong>${report.rows.added}</strong> added</li>
<li><strong>${report.rows.updated}</strong> updated</li>
<li><strong>${report.rows.unchanged}</strong> unchanged</li>
<li><strong>${report.rows.suppressed}</strong> suppressed</li>
<li><strong>${report.rows.invalid}</strong> invalid</li>
<li><strong>${report.rows.duplicates}</strong> duplicates</li>
</ul>
<p>${report.withoutEvidence} rows said confirmed without a time of opt-in and wait as pending. ${report.confirmationsQueued} confirmation mails queued. File SHA-256: <code>${report.file.sha256}</code>.</p>
${report.problems.length === 0
  ? html`<p>No problems.</p>`
  : html`<div class="table-scroll" tabindex="0" role="region" aria-labelledby="problems"><table>
<caption id="problems">The first ${report.problems.length} problems</caption>
<thead><tr><th scope="col" class="num">Line</th><th scope="col">Column</th><th scope="col">Problem</th></tr></thead>
<tbody>${report.problems.map((p) => html`<tr><td class="num">${p.line}</td><td>${p.column ?? ''}</td><td>${p.reason}</td></tr>`)}</tbody>
</table></div>`}`
: ''}
<p>A CSV export from Mailchimp (the audience export, and its unsubscribed and cleaned files), listmonk or a spreadsheet with an <code>email</code> column. Consent evidence in the file is kept; anyone who was erased or left the list is not added back; nothing is mailed. One file is imported whole or not at all.</p>
<form method="post" action="/admin/import" enctype="multipart/form-data">
${csrfField(c)}
<div><label for="list">List</label><select id="list" name="list">${lists.map((l) => html`<option value="${l.slug}">${l.name} (${l.slug})</option>`)}</select></div>
<div class="checkbox"><input type="checkbox" id="dryRun" name="dryRun" value="true" checked><label for="dryRun">Dry run: report what would happen, change nothing</label></div>
<div><label for="file">CSV file</label><input type="file" id="file" name="file" accept=".csv,text/csv" required></div>
<button type="submit">Import</button>
</form>`)
}
