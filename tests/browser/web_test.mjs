// web_test.mjs - the clerk's page in Debian's chromium (puppeteer-core),
// against a real `wings serve --http` started by web_browser.sh.
//
// Signs in as a clerk; adds a person by keyboard alone with a wrong ID
// check digit and finds the Chinese error beside the field; corrects it;
// adds a training and a placement; finds the person by part of the name;
// pages through 61 persons; reads sync status; switches to English and
// back; sees a forged cross-site POST, a POST without the CSRF token and a
// foreign Host refused; sees sign-in throttled; signs out. axe-core runs
// on every page (WCAG 2.1 A and AA: 0 violations allowed); a screenshot of
// each page is saved. Prints "ok - ..." per check; exits 1 on the first
// failure.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

const require = createRequire(import.meta.url);
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const BASE = process.env.WEB_BASE;
const SHOTS = process.env.SHOTS_DIR;
const CLERK = process.env.CLERK;
const CLERK_PASSWORD = process.env.CLERK_PASSWORD;

let checks = 0;
function ok(cond, what, detail) {
  if (!cond) {
    console.log(`FAIL - ${what}${detail ? ': ' + detail : ''}`);
    process.exit(1);
  }
  checks++;
  console.log(`ok - ${what}`);
}

// GB 11643: the check character of 17 digits.
function idnum(first17) {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  let s = 0;
  for (let i = 0; i < 17; i++) s += Number(first17[i]) * w[i];
  return first17 + '10X98765432'[s % 11];
}

function wings(...args) {
  return execFileSync(process.env.WINGS, ['--dir', process.env.NODE_DIR, ...args],
                      { encoding: 'utf8' });
}

// 60 persons through the CLI (the daemon carries the command out), for paging.
const csv = ['name,gender,birth_date,id_number,disability_category'];
for (let i = 0; i < 60; i++) {
  const d = String(10 + (i % 18)).padStart(2, '0');
  csv.push(`测试人员${String(i).padStart(2, '0')},${i % 2 ? 'male' : 'female'},` +
           `1985-03-${d},${idnum(`450224198503${d}${String(100 + i).slice(-3)}`)},visual`);
}
const csvPath = path.join(process.env.NODE_DIR, '..', 'persons.csv');
fs.writeFileSync(csvPath, csv.join('\n') + '\n');
wings('import', 'person', csvPath);

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--lang=zh-CN', '--font-render-hinting=none'],
});
const page = await browser.newPage();
await page.setViewport({ width: 1100, height: 800 });
await page.setExtraHTTPHeaders({ 'Accept-Language': 'zh-CN,zh;q=0.9,en;q=0.5' });
const cspErrors = [];
page.on('console', (m) => {
  if (/Content Security Policy|Refused to/.test(m.text())) cspErrors.push(m.text());
});
const external = [];
page.on('request', (r) => {
  if (!r.url().startsWith(BASE) && !r.url().startsWith('http://127.0.0.1')) external.push(r.url());
});

let shot = 0;
async function audit(name) {
  await page.evaluate(AXE);
  const res = await page.evaluate(async () =>
    await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    }));
  const v = res.violations.map((x) => `${x.id}: ${x.nodes.map((n) => n.target).join(' ')}`);
  ok(v.length === 0, `axe-core: 0 WCAG 2.1 AA violations on ${name}`, v.join('; '));
  shot++;
  const file = path.join(SHOTS, `${String(shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
}
async function text(sel) {
  const el = await page.$(sel);
  if (!el) {
    const h1 = await page.$eval('h1', (e) => e.textContent).catch(() => '(no h1)');
    const p = await page.$eval('main', (e) => e.textContent).catch(() => '');
    ok(false, `no ${sel} on ${page.url()}`, `${h1}: ${p.slice(0, 300)}`);
  }
  return el.evaluate((e) => e.textContent.trim());
}
const lang = () => page.$eval('html', (e) => e.lang);

// ---- sign-in --------------------------------------------------------------
let resp = await page.goto(`${BASE}/persons`);
ok(page.url() === `${BASE}/signin`, 'a page asked for without a session leads to sign-in');
ok(await lang() === 'zh-CN', 'the page speaks Chinese first');
ok(await text('h1') === '登录', 'the sign-in page is in Chinese');
const csp = resp.headers()['content-security-policy'] || '';
ok(/script-src 'self'/.test(csp) && !/unsafe-inline/.test(csp),
   'the Content-Security-Policy allows no inline script', csp);
await audit('signin');
// The audit can fail: an input without a label is a violation.
await page.evaluate(() => {
  const i = document.createElement('input');
  i.id = 'unlabelled';
  document.querySelector('main').appendChild(i);
});
const seeded = await page.evaluate(async () => (await window.axe.run(document, {
  runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })).violations.map((v) => v.id));
ok(seeded.includes('label'), 'axe-core finds a seeded unlabelled input', seeded.join(','));
await page.reload();

await page.type('#f-user', CLERK);
await page.type('#f-password', 'wrong-password');
await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
ok((await text('#errors')).includes('用户名或密码错误'),
   'a wrong password is refused with a clear Chinese message');
ok(await page.$eval('#f-user', (e) => e.getAttribute('aria-describedby')) === 'signin-error',
   'the sign-in error is tied to the fields');
await page.$eval('#f-password', (e) => { e.value = ''; });
await page.type('#f-password', CLERK_PASSWORD);
await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
ok(page.url() === `${BASE}/persons`, 'the clerk signs in and lands on the persons');
const cookies = await page.cookies();
const sess = cookies.find((c) => c.name === 'wings_session');
ok(sess && sess.httpOnly && sess.sameSite === 'Strict',
   'the session cookie is HttpOnly and SameSite=Strict', JSON.stringify(sess));
ok((await text('header .who span')) === 'wei@ronan', 'the header names the clerk as wei@ronan');

// ---- keyboard only: register a person with a wrong check digit -----------------
// Tab from the top of the page to the "register a person" link.
await page.focus('body');
let found = false;
for (let i = 0; i < 10 && !found; i++) {
  await page.keyboard.press('Tab');
  found = await page.evaluate(() => document.activeElement.getAttribute('href') === '/new/person');
}
ok(found, 'the "register a person" link is reached by Tab');
await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
ok(await text('h1') === '登记人员', 'Enter opens the form');
await audit('person-form');

const wrongId = idnum('45022419900315123').slice(0, 17) + '0';
const rightId = idnum('45022419900315123');
ok(wrongId !== rightId, 'the test id has a wrong check digit');
// Every field in order, by Tab alone; type or pick each value by keys.
const typed = {
  name: '韦小宝', gender: 'ArrowDown', birth_date: '1990-03-15', id_number: wrongId,
  disability_category: 'ArrowDown', disability_grade: '2', township: '长安镇',
  phone: '13800000000',
};
const order = [];
let focusVisible = true;
for (let i = 0; i < 40; i++) {
  await page.keyboard.press('Tab');
  const f = await page.evaluate(() => {
    const e = document.activeElement;
    const s = getComputedStyle(e);
    return { id: e.id, tag: e.tagName, type: e.type, outline: s.outlineStyle,
             width: parseFloat(s.outlineWidth), text: e.textContent.trim() };
  });
  if (f.outline === 'none' || f.width < 2) focusVisible = false;
  if (f.tag === 'BUTTON' && f.text === '保存') { order.push('save'); break; }
  if (!f.id.startsWith('f-')) continue;
  const name = f.id.slice(2);
  order.push(name);
  const v = typed[name];
  if (v === 'ArrowDown') await page.keyboard.press('ArrowDown');
  else if (v) await page.keyboard.type(v);
}
const want = (await page.$$eval('form.record-form [id^="f-"]', (es) => es.map((e) => e.id.slice(2))))
  .concat(['save']);
ok(want.length > 10 && want[0] === 'name' && want.includes('id_number'), 'the form holds every field');
ok(JSON.stringify(order) === JSON.stringify(want),
   'Tab visits every field of the form in order, then the save button', order.join(','));
ok(focusVisible, 'every control shows a visible focus outline (at least 2px)');
resp = (await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]))[0];
ok(resp.status() === 422, 'the wrong check digit is refused (HTTP 422)', String(resp.status()));
const err = await text('#e-id_number');
ok(err.includes('校验位是 0，应为'), 'the Chinese error stands beside the ID number field', err);
ok(await page.$eval('#f-id_number', (e) => e.getAttribute('aria-invalid')) === 'true' &&
   (await page.$eval('#f-id_number', (e) => e.getAttribute('aria-describedby'))).includes('e-id_number'),
   'the field is marked invalid and described by its error');
ok(await page.evaluate(() => document.activeElement.id) === 'errors' &&
   await page.$eval('#errors', (e) => e.getAttribute('role')) === 'alert',
   'focus moves to the error list, which is announced (role=alert)');
ok(await page.$eval('#f-name', (e) => e.value) === '韦小宝' &&
   await page.$eval('#f-gender', (e) => e.value) === 'male' &&
   await page.$eval('#f-disability_category', (e) => e.value) === 'physical',
   'what was typed is kept');
ok(!wings('--json', 'list', 'person').includes(wrongId), 'nothing was written');
await audit('person-form-error');

// Correct it by keyboard: the error link leads to the field.
await page.keyboard.press('Tab');
ok(await page.evaluate(() => document.activeElement.getAttribute('href')) === '#f-id_number',
   'the error list links to the field');
await page.keyboard.press('Enter');
await page.waitForFunction(() => document.activeElement.id === 'f-id_number');
await page.keyboard.down('Control');
await page.keyboard.press('KeyA');
await page.keyboard.up('Control');
await page.keyboard.type(rightId);
await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
ok(/\/person\/[0-9a-f]{32}\?saved=1$/.test(page.url()), 'the corrected person is saved', page.url());
const personUrl = page.url().replace(/\?saved=1$/, '');
const personId = personUrl.split('/').pop();
ok(await text('h1') === '韦小宝' && (await text('p.note')) === '已保存。',
   "the person's page shows the saved person");
const stored = JSON.parse(wings('--json', 'get', 'person', personId));
ok(stored.id_number === rightId && stored.name === '韦小宝' && stored.county === '450224' &&
   stored.disability_grade === 2, 'the store holds exactly what was typed', JSON.stringify(stored));

// ---- a training and a placement -------------------------------------------------------
await Promise.all([page.waitForNavigation(), page.click('a[href^="/new/training"]')]);
ok(await text('h1') === '添加培训', 'the training form opens from the person');
ok((await page.$$eval('label', (ls) => ls.map((l) => l.htmlFor))).every((f) => f.startsWith('f-')),
   'every label is tied to a field');
await page.type('#f-course', '电商直播基础');
await page.select('#f-category', 'ecommerce_live');
await page.type('#f-provider', '融安县职业技术学校');
await page.type('#f-start_date', '2026-03-01');
await page.type('#f-end_date', '2026-02-01');
await page.type('#f-hours', '80');
await page.select('#f-outcome', 'completed');
resp = (await Promise.all([page.waitForNavigation(), page.click('form.record-form button[type=submit]')]))[0];
ok(resp.status() === 422 && (await text('#e-end_date')).includes('早于开始日期'),
   "a record-level error (end before start) stands beside its field in Chinese",
   await text('#errors'));
await audit('training-form-error');
await page.$eval('#f-end_date', (e) => { e.value = ''; });
await page.type('#f-end_date', '2026-04-30');
await Promise.all([page.waitForNavigation(), page.click('form.record-form button[type=submit]')]);
ok(page.url() === `${personUrl}?saved=1`, 'the training is saved and the person shown again');

await Promise.all([page.waitForNavigation(), page.click('a[href^="/new/placement"]')]);
ok(await text('h1') === '添加就业', 'the placement form opens from the person');
await audit('placement-form');
await page.type('#f-employer', '融安县电商服务中心');
await page.select('#f-employment_type', 'online');
await page.type('#f-position', '直播助理');
await page.type('#f-start_date', '2026-05-01');
await page.type('#f-monthly_income', '2300');
await page.select('#f-status', 'active');
await Promise.all([page.waitForNavigation(), page.click('form.record-form button[type=submit]')]);
ok(page.url() === `${personUrl}?saved=1`, 'the placement is saved');
const trainings = await page.$$eval('#h-training ~ table tbody tr', (rs) => rs.map((r) => r.textContent));
const placements = await page.$$eval('#h-placement ~ table tbody tr', (rs) => rs.map((r) => r.textContent));
ok(trainings.length === 1 && trainings[0].includes('电商直播基础') && trainings[0].includes('结业'),
   "the person's page lists the training with its Chinese labels", trainings.join('|'));
ok(placements.length === 1 && placements[0].includes('网络就业') && placements[0].includes('2300'),
   "the person's page lists the placement", placements.join('|'));
const hist = await page.$$eval('#h-history ~ table tbody tr', (rs) => rs.map((r) => r.textContent));
ok(hist.length >= 1 && hist[0].includes(`${CLERK}@ronan`) && hist[0].includes('韦小宝'),
   "the person's history names the clerk who made the change: clerk@node", hist.join('|'));
await audit('person');

// Edit the income: the placement's page, its form, the history.
await Promise.all([page.waitForNavigation(), page.click('#h-placement ~ table tbody a')]);
ok(/^\/placement\/[0-9a-f]{32}$/.test(new URL(page.url()).pathname), "the placement's page opens");
await audit('placement');
await Promise.all([page.waitForNavigation(), page.click('a.button[href^="/edit/placement/"]')]);
ok(await page.$eval('#f-monthly_income', (e) => e.value) === '2300.00', 'the edit form shows the stored income in yuan, to the fen');
ok((await page.$('#f-monthly_income_fen')) === null && (await page.$('#f-changed_by')) === null,
   'the form offers neither the fen field nor the store\'s own fields');
await page.$eval('#f-monthly_income', (e) => { e.value = ''; });
await page.type('#f-monthly_income', '2600.50');
await Promise.all([page.waitForNavigation(), page.click('form.record-form button[type=submit]')]);
ok(page.url() === `${personUrl}?saved=1` &&
   (await page.$$eval('#h-placement ~ table tbody tr', (rs) => rs[0].textContent)).includes('2600.50'),
   'the new income is saved and shown to the fen');
await Promise.all([page.waitForNavigation(), page.click('#h-placement ~ table tbody a')]);
const phist = await page.$$eval('#h-history ~ table tbody tr', (rs) => rs.map((r) => r.textContent));
ok(phist.length === 2 && phist[1].includes('月收入（元）：2600') && phist[1].includes('260050') &&
   phist[1].includes(`${CLERK}@ronan`) && !phist[1].includes('用人单位'),
   "the placement's history shows the edit, and only the field that changed", phist.join('|'));
await Promise.all([page.waitForNavigation(), page.click('a[href^="/person/"]')]);

// ---- find by part of the name; paging ------------------------------------------
await Promise.all([page.waitForNavigation(), page.click('a[href="/persons"]')]);
// 60 imported, the one typed, the one two offices registered (held twice)
// and the one whose phone both offices changed.
ok((await text('#count')) === '找到 64 人。', 'the list counts every person', await text('#count'));
ok((await page.$$('table.list tbody tr')).length === 50, 'a page shows 50 persons');
await audit('persons');
await Promise.all([page.waitForNavigation(), page.click('a[rel=next]')]);
ok((await page.$$('table.list tbody tr')).length === 14 && (await text('.pages span')) === '第 2 页，共 2 页',
   'the second page shows the other 14');
await page.type('#f-q', '小宝');
await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
const rows = await page.$$eval('table.list tbody tr', (rs) => rs.map((r) => r.textContent));
ok(rows.length === 1 && rows[0].includes('韦小宝') && (await text('#count')) === '找到 1 人。',
   'the person is found by part of the name', rows.join('|'));
await page.$eval('#f-q', (e) => { e.value = ''; });
await page.type('#f-q', '2241990');
await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
ok((await text('#count')) === '找到 1 人。', 'and by part of the ID number');
await audit('persons-search');

// ---- import: one bad line names the line and writes nothing; then a good file ----
await Promise.all([page.waitForNavigation(), page.click('a[href="/import"]')]);
ok(await text('h1') === '导入记录', 'the import page opens from the menu');
await audit('import');
const personsBefore = JSON.parse(wings('--json', 'list', 'person')).length;
const badId = idnum('45022419880101001').slice(0, 17) +
  (idnum('45022419880101001').endsWith('0') ? '1' : '0');
const importDir = path.join(process.env.NODE_DIR, '..');
fs.writeFileSync(path.join(importDir, 'bad.csv'), [
  'name,gender,id_number,disability_category',
  `蒙丽,female,${idnum('45022419880101002')},visual`,
  `黄<img src=x id=inj>强,male,${badId},visual`,
  `陆远,male,${idnum('45022419880101011')},hearing`].join('\r\n') + '\r\n');
await page.select('#f-table', 'person');
await (await page.$('#f-file')).uploadFile(path.join(importDir, 'bad.csv'));
resp = (await Promise.all([page.waitForNavigation(), page.click('form.record-form button[type=submit]')]))[0];
const importErr = await text('#errors');
ok(resp.status() === 422 && /第 3 行/.test(importErr) && importErr.includes('校验位'),
   'a CSV with one bad line is refused, the line named with the Chinese reason', importErr);
ok(importErr.includes('bad.csv') && !/第 2 行|第 4 行/.test(importErr),
   'the file is named, and only the bad line is listed', importErr);
ok(await page.evaluate(() => document.activeElement.id) === 'errors',
   'focus moves to the list of failing lines (announced)');
ok(await page.$('#inj') === null, "nothing of the file's text became markup");
ok(JSON.parse(wings('--json', 'list', 'person')).length === personsBefore,
   'nothing of the file was written');
await audit('import-error');
fs.writeFileSync(path.join(importDir, 'good.csv'), [
  'name,gender,id_number,disability_category',
  `蒙丽,female,${idnum('45022419880101002')},visual`,
  `陆远,male,${idnum('45022419880101011')},hearing`].join('\n') + '\n');
await page.select('#f-table', 'person');
await (await page.$('#f-file')).uploadFile(path.join(importDir, 'good.csv'));
await Promise.all([page.waitForNavigation(), page.click('form.record-form button[type=submit]')]);
ok(page.url().startsWith(`${BASE}/import?table=person&added=2&`) &&
   (await text('p.note')).includes('新增 2'), 'the corrected file is imported: 2 added', page.url());
const afterImport = JSON.parse(wings('--json', 'list', 'person'));
ok(afterImport.length === personsBefore + 2 && afterImport.some((p) => p.name === '陆远'),
   'the store holds the two imported persons');
await audit('import-done');
// A workbook: the persons exported as .xlsx come back through the page,
// each already held, so nothing is written (the same file twice).
const xlsxPath = path.join(importDir, 'persons.xlsx');
wings('export', 'person', '--out', xlsxPath);
await page.select('#f-table', 'person');
await (await page.$('#f-file')).uploadFile(xlsxPath);
await Promise.all([page.waitForNavigation(), page.click('form.record-form button[type=submit]')]);
ok(page.url().startsWith(`${BASE}/import?table=person&added=0&updated=0&unchanged=${afterImport.length}`),
   'an .xlsx export imported back writes nothing: every row already held', page.url());
ok(JSON.parse(wings('--json', 'list', 'person')).length === afterImport.length, 'and the store is unchanged');

// ---- review: the person held twice, merged ---------------------------------------
await Promise.all([page.waitForNavigation(), page.click('a[href="/review"]')]);
ok(await text('h1') === '待处理', 'the review page opens from the menu');
const groups = await page.$$eval('section.review', (ss) => ss.map((s) => s.textContent));
ok(groups.length === 2 && groups[0].includes('梁秀') && groups[0].includes('45022419920707002X'),
   'it lists the person held twice, with her ID number', groups.join('|'));
// The phone both offices changed while apart: the value kept and the one
// overwritten, each with who wrote it and when.
ok(groups[1].includes('修改被覆盖') && groups[1].includes('联系电话') &&
   groups[1].includes('保留的值') && groups[1].includes('13900000003') &&
   groups[1].includes('被覆盖的值') && groups[1].includes('13800000002') &&
   groups[1].includes('ronan'),
   'it lists the edit the other office overwrote, both values and their writers', groups[1]);
const reviewIds = await page.$$eval('section.review input[name=keep]', (es) => es.map((e) => e.value));
ok(reviewIds.length === 2, 'with a choice of which record to keep');
await audit('review');
await page.click(`section.review input[value="${reviewIds[1]}"]`);
await Promise.all([page.waitForNavigation(), page.click('section.review button[type=submit]')]);
ok(page.url() === `${BASE}/review?merged=1` && (await text('p.note')).includes('1') &&
   (await page.$$('section.review')).length === 1 &&
   (await page.$$('section.review input[name=keep]')).length === 0,
   'merging leaves only the overwritten edit to review, and says so');
ok(JSON.stringify(JSON.parse(wings('--json', 'review')).map((x) => x.kind)) === '["overwritten"]',
   'the CLI lists only the overwritten edit too');
const kept = JSON.parse(wings('--json', 'get', 'person', reviewIds[1]));
ok(kept.name === '梁秀', 'the record chosen is the one kept');
await audit('review-merged');
// A forged merge of two persons who are not one (the page's own token and
// session, but ids review never listed) is refused and merges nothing.
const csrfTok = await page.$eval('header input[name=csrf]', (e) => e.value);
const mergeSess = (await page.cookies()).find((c) => c.name === 'wings_session').value;
const forgedMerge = await fetch(`${BASE}/review/merge`, { method: 'POST', redirect: 'manual',
  headers: { Cookie: `wings_session=${mergeSess}`, Origin: BASE,
             'Content-Type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ csrf: csrfTok, table: 'person', keep: personId,
                              ids: `${personId},${reviewIds[1]}` }).toString() });
ok(forgedMerge.status === 422 && (await forgedMerge.text()).includes('不是同一人的重复登记'),
   'a merge of two persons who are not one is refused', String(forgedMerge.status));
ok(JSON.parse(wings('--json', 'get', 'person', reviewIds[1])).name === '梁秀' &&
   JSON.parse(wings('--json', 'list', 'person')).some((p) => p.id === reviewIds[1]),
   'and both stay as they were');

// ---- the report: the chart as an image, the table, the workbook ----------------------
await Promise.all([page.waitForNavigation(), page.click('a[href="/report"]')]);
ok(await text('h1') === '统计报表', 'the report page opens from the menu');
await page.waitForFunction(() => { const i = document.querySelector('figure.chart img');
  return i && i.complete; });
ok(await page.$eval('figure.chart img', (i) => i.naturalWidth > 0 && i.getAttribute('alt').length > 10),
   'the chart is shown as an image with a text alternative');
ok(await page.$('main svg') === null, 'no SVG markup is inlined into the page');
const repRows = await page.$$eval('table.report tbody tr', (rs) => rs.map((r) => r.textContent));
ok(repRows.some((r) => r.includes('450224')) && repRows[repRows.length - 1].includes('合计'),
   'the table holds the county and the total', repRows.join('|'));
const medians = await page.$$eval('table.report tbody tr', (rs) => rs.map((r) => r.lastElementChild.textContent));
ok(medians.some((m) => m !== '') && medians.every((m) => /^(\d+(\.\d\d)?)?$/.test(m)),
   'the median income is shown in yuan to the fen, as the records show it', medians.join('|'));
await audit('report');
// The link, followed as the browser would (a fetch from the page itself is
// what the Content-Security-Policy forbids).
const xlHref = await page.$eval('a[href="/report.xlsx"]', (a) => a.href);
const xlSess = (await page.cookies()).find((c) => c.name === 'wings_session').value;
const xlResp = await fetch(xlHref, { headers: { Cookie: `wings_session=${xlSess}` } });
const xlBytes = new Uint8Array(await xlResp.arrayBuffer());
const xl = { status: xlResp.status, type: xlResp.headers.get('content-type'),
             disp: xlResp.headers.get('content-disposition'),
             magic: String.fromCharCode(xlBytes[0], xlBytes[1]) };
ok(xl.status === 200 && xl.magic === 'PK' && /spreadsheetml/.test(xl.type) && /attachment/.test(xl.disp),
   'the workbook link downloads an .xlsx', JSON.stringify(xl));
await page.select('#f-by', 'gender');
await Promise.all([page.waitForNavigation(), page.click('form.search button')]);
ok(page.url() === `${BASE}/report?by=gender` &&
   (await page.$$eval('table.report tbody th', (ts) => ts.map((t) => t.textContent))).includes('女'),
   'the report groups by another dimension, in Chinese');
await audit('report-gender');

// ---- sync status; the language switch ---------------------------------------------------
await Promise.all([page.waitForNavigation(), page.click('a[href="/sync"]')]);
ok(await text('h1') === '同步状态', 'the sync status page opens');
const peerRow = await text('table.list tbody tr');
ok(peerRow.includes('nanning-hq'), 'it lists the peer', peerRow);
await audit('sync');
await Promise.all([page.waitForNavigation(), page.click('#sync-now')]);
ok(page.url() === `${BASE}/sync?started=1` && (await text('p.note')).includes('已开始与 1 个对端同步'),
   '"sync now" starts a session with the peer and says so');
resp = await page.goto(`${BASE}/audit`);
ok(resp.status() === 403 && (await text('p.refusal')).includes('只有管理员'),
   'a clerk may not read the audit trail');
await page.goto(`${BASE}/sync`);
await Promise.all([page.waitForNavigation(), page.click('a[hreflang=en]')]);
ok(await lang() === 'en' && await text('h1') === 'Sync status' && page.url() === `${BASE}/sync`,
   'the switch turns the page to English, on the same page');
await audit('sync-en');
await Promise.all([page.waitForNavigation(), page.click('a[hreflang=zh-CN]')]);
ok(await lang() === 'zh-CN' && await text('h1') === '同步状态', 'and back to Chinese');

// ---- refusals ----------------------------------------------------------------------------------
// A forged cross-site POST: another site's page submits a form to ours.
const evil = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end(`<!DOCTYPE html><html lang="en"><title>prize</title><body>
    <form id="f" method="post" action="${BASE}/new/person">
    <input name="name" value="EVIL"><input name="id_number" value="${idnum('11010519491231002')}">
    <input name="disability_category" value="physical"></form>
    <script>document.getElementById('f').submit()</script></body></html>`);
});
await new Promise((r) => evil.listen(0, '127.0.0.1', r));
const evilUrl = `http://127.0.0.1:${evil.address().port}/`;
const forged = page.waitForResponse((r) => r.url() === `${BASE}/new/person`);
await page.goto(evilUrl);
const forgedResp = await forged;
await page.waitForFunction(() => document.querySelector('h1') && document.querySelector('h1').textContent === '已拒绝');
ok(forgedResp.status() === 403, 'a forged cross-site POST is refused (HTTP 403)', String(forgedResp.status()));
ok((await text('p.refusal')).includes('来自其他网站'), 'the refusal is a clear Chinese page');
await audit('refused');
evil.close();
ok(!wings('--json', 'list', 'person').includes('EVIL'), 'the forged POST wrote nothing');

// The session's own cookie and this origin, but no CSRF token.
const sessCookie = (await page.cookies()).find((c) => c.name === 'wings_session').value;
const noToken = (await fetch(`${BASE}/new/person`, { method: 'POST', redirect: 'manual',
  headers: { Cookie: `wings_session=${sessCookie}`, Origin: BASE,
             'Content-Type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ name: 'NOTOKEN', id_number: '11010519491231002X',
                              disability_category: 'physical' }).toString() })).status;
ok(noToken === 403, 'a same-site POST without the CSRF token is refused', String(noToken));
ok(!wings('--json', 'list', 'person').includes('NOTOKEN'), 'and wrote nothing');

const hostStatus = await new Promise((resolve, reject) => {
  const u = new URL(BASE);
  http.get({ host: u.hostname, port: u.port, path: '/signin', headers: { Host: 'wings.example:80' } },
    (r) => { r.resume(); resolve(r.statusCode); }).on('error', reject);
});
ok(hostStatus === 421, 'a request for another host name is refused (DNS rebinding)', String(hostStatus));

const notFound = await page.goto(`${BASE}/person/0123456789abcdef0123456789abcdef`);
ok(notFound.status() === 404 && await text('h1') === '未找到', 'an unknown record is a clear 404 page');

// Throttled sign-in, outside the browser: 5 failures for one name, then a wait.
async function signinAttempt(user, pass) {
  const g = await fetch(`${BASE}/signin`);
  const pre = g.headers.get('set-cookie').match(/wings_pre=([0-9a-f]+)/)[1];
  const r = await fetch(`${BASE}/signin`, { method: 'POST', redirect: 'manual',
    headers: { Cookie: `wings_pre=${pre}`, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf: pre, user, password: pass }).toString() });
  return { status: r.status, body: await r.text() };
}
const tries = [];
for (let i = 0; i < 6; i++) tries.push((await signinAttempt('mallory', 'guess' + i)).status);
ok(JSON.stringify(tries) === '[401,401,401,401,401,429]',
   'after 5 failed sign-ins for one name the next is refused with a wait', tries.join(','));
const good = await signinAttempt(CLERK, CLERK_PASSWORD);
ok(good.status === 303, 'the clerk still signs in meanwhile', String(good.status));
const noPre = await fetch(`${BASE}/signin`, { method: 'POST', redirect: 'manual',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ user: CLERK, password: CLERK_PASSWORD }).toString() });
ok(noPre.status === 403, 'a sign-in POST without the form token is refused', String(noPre.status));

// ---- sign out -------------------------------------------------------------------------------
await Promise.all([page.waitForNavigation(), page.click('header .who button')]);
ok(page.url() === `${BASE}/signin?bye=1` && (await text('p.note')) === '您已退出登录。',
   'signing out leads to the sign-in page, saying so');
await audit('signed-out');
await page.goto(`${BASE}/person/${personId}`);
ok(page.url() === `${BASE}/signin`, 'after signing out, a record page asks for sign-in again');

// An administrator reads the audit trail.
await page.goto(`${BASE}/signin`);
await page.type('#f-user', process.env.ADMIN);
await page.type('#f-password', process.env.ADMIN_PASSWORD);
await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
await Promise.all([page.waitForNavigation(), page.click('a[href="/audit"]')]);
const auditRows = await page.$$eval('table.list tbody tr', (rs) => rs.map((r) => r.textContent));
ok(await text('h1') === '审计记录' && auditRows.some((r) => r.includes('nanning-hq') && r.includes('失败')),
   'the admin reads the audit trail, with the failed sessions to the HQ', auditRows.slice(-2).join('|'));
await audit('audit');

// The admin manages accounts: a mismatched password is refused beside its
// field; then a viewer is added and listed.
await Promise.all([page.waitForNavigation(), page.click('a[href="/users"]')]);
ok(await text('h1') === '账号', 'the accounts page opens for the admin');
await page.type('#f-user', 'zhao.min');
await page.select('#f-role', 'viewer');
await page.type('#f-password', 'Tamarind-5c-ridge');
await page.type('#f-password2', 'Tamarind-5c-ridgE');
resp = (await Promise.all([page.waitForNavigation(), page.click('form.record-form button[type=submit]')]))[0];
ok(resp.status() === 422 && (await text('#e-password2')).includes('两次输入的密码不同'),
   'mismatched passwords are refused beside the field', await text('#errors'));
await audit('accounts-error');
await page.type('#f-password', 'Tamarind-5c-ridge');
await page.type('#f-password2', 'Tamarind-5c-ridge');
await Promise.all([page.waitForNavigation(), page.click('form.record-form button[type=submit]')]);
const users = await page.$$eval('table.list tbody tr', (rs) => rs.map((r) => r.textContent));
ok(page.url() === `${BASE}/users?added=1` && users.some((u) => u.includes('zhao.min') && u.includes('查看员')),
   'the viewer account is added and listed', users.join('|'));
await audit('accounts');
ok(wings('--json', 'user', 'list').includes('"zhao.min","role":"viewer"'),
   'the CLI lists the account added on the page');

ok(cspErrors.length === 0, 'the page broke no rule of its Content-Security-Policy', cspErrors.join('; '));
ok(external.length === 0, 'no request left the machine', external.join(' '));
await browser.close();
console.log(`${checks} passed, 0 failed`);
