// motcua's journeys in a real browser: Debian's chromium driven by playwright-core, every page
// visited checked with axe-core (WCAG 2.2 A and AA rules) and saved as a screenshot.
//
//   node journeys.mjs BASE_URL OUT_DIR
//
// Writes OUT_DIR/report.json ({pages: [{name, url, violations}], error}) and a PNG per page;
// exits 1 when a step fails or a page has a violation. CHROMIUM names the browser
// (default /usr/bin/chromium).
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [base, out] = process.argv.slice(2);
if (!base || !out) {
  console.error('usage: node journeys.mjs BASE_URL OUT_DIR');
  process.exit(2);
}
fs.mkdirSync(out, { recursive: true });
const axeSource = fs.readFileSync(
  new URL('./node_modules/axe-core/axe.min.js', import.meta.url),
  'utf8',
);
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
const report = { pages: [], error: null };
let shot = 0;

/// Checks the page as it stands: axe's violations are recorded, and a screenshot saved.
async function check(page, name) {
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(
    async (tags) => await window.axe.run(document, { runOnly: { type: 'tag', values: tags } }),
    AXE_TAGS,
  );
  shot += 1;
  const file = `${String(shot).padStart(2, '0')}-${name}.png`;
  await page.screenshot({ path: path.join(out, file), fullPage: true });
  report.pages.push({
    name,
    url: page.url().replace(base, ''),
    screenshot: file,
    violations: result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
    })),
  });
}

/// Does what leads to another page, and waits until that page has loaded.
async function going(page, step) {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), step()]);
}

function expect(condition, what) {
  if (!condition) throw new Error(`expected ${what}`);
}

async function text(page) {
  return await page.locator('main').innerText();
}

/// Signs in with a local account; officials give the demo authenticator's code, which the
/// demo's code page shows.
async function signIn(page, username, { checkPages = false } = {}) {
  if (!page.url().includes('/signin')) await page.goto(`${base}/signin`);
  await page.getByLabel(/Tên đăng nhập|Username/).fill(username);
  await page.getByLabel(/Mật khẩu|Password/).fill('demo');
  if (checkPages) await check(page, 'sign-in');
  await going(page, () => page.getByRole('button', { name: /^(Đăng nhập|Sign in)$/ }).click());
  if (page.url().includes('/signin/second-factor')) {
    if (checkPages) await check(page, 'second-factor');
    const code = (await page.locator('.notice strong').innerText()).trim();
    await page.getByLabel(/Mã xác thực|Verification code/).fill(code);
    await going(page, () => page.getByRole('button', { name: /Xác nhận|Confirm/ }).click());
  }
  expect(!page.url().includes('/signin'), `${username} signed in, at ${page.url()}`);
}

/// Opens the dossier and carries out `action` with `fill` filling its form.
async function act(page, code, action, fill = async () => {}) {
  await page.goto(`${base}/dossiers/${code}`);
  const form = page.locator('form', { has: page.locator(`input[name=action][value="${action}"]`) });
  expect((await form.count()) === 1, `the action ${action} on ${code} for this user`);
  await page.locator('details.action', { has: form }).locator('summary').click();
  await fill(form);
  await going(page, () => form.locator('button[type=submit]').click());
  return page;
}

async function officialPage(browser, username) {
  const context = await browser.newContext({ bypassCSP: true, locale: 'vi-VN' });
  const page = await context.newPage();
  await signIn(page, username);
  return page;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  // Vietnamese, as most of the portal's users: the date inputs show dd/mm/yyyy.
  args: ['--no-sandbox', '--disable-dev-shm-usage', '--lang=vi-VN'],
});
try {
  // axe is injected as an inline script, which the portal's CSP forbids: bypassed for the
  // checker only.
  const citizenContext = await browser.newContext({ bypassCSP: true, locale: 'vi-VN' });
  const citizen = await citizenContext.newPage();

  // A citizen searches without accents and reads the procedure.
  await citizen.goto(base);
  await check(citizen, 'home');
  // The keyboard's first stop is the skip link, which leads to the main content.
  await citizen.keyboard.press('Tab');
  expect(
    await citizen.evaluate(() => document.activeElement?.classList.contains('skip-link')),
    'the skip link first in the focus order',
  );
  await citizen.getByLabel(/Tìm thủ tục|Search/).first().fill('dang ky khai sinh');
  await going(citizen, () => citizen.keyboard.press('Enter'));
  await check(citizen, 'search-results');
  const hit = citizen.locator('main a[href="/procedures/1.001193"]').first();
  expect((await hit.count()) === 1, 'birth registration among the results of "dang ky khai sinh"');
  await going(citizen, () => hit.click());
  expect((await text(citizen)).includes('khai sinh'), 'the procedure page');
  await check(citizen, 'procedure');

  // The guided check: the citizen ticks their case and gets the list of what to prepare.
  await going(citizen, () => citizen.locator('main a[href="/procedures/1.001193/check"]').click());
  await check(citizen, 'document-check');
  await citizen.locator('input[name=doc][value="0-0"]').check();
  await going(citizen, () => citizen.getByRole('button', { name: /Xem danh sách giấy tờ|Show my list/ }).click());
  const needed = await citizen.locator('.notice').innerText();
  expect(needed.includes('bị bỏ rơi') && !needed.includes('mang thai hộ'), 'the list for the ticked case');
  await check(citizen, 'document-check-list');
  await citizen.goto(`${base}/procedures/1.001193`);

  // Applying needs a sign-in, which comes back to the e-form.
  await going(citizen, () => citizen.locator('main a[href="/procedures/1.001193/apply"]').first().click());
  expect(citizen.url().includes('/signin'), 'the sign-in page before the e-form');
  await signIn(citizen, 'demo-citizen', { checkPages: true });
  if (!citizen.url().includes('/apply')) await citizen.goto(`${base}/procedures/1.001193/apply`);
  await check(citizen, 'e-form');

  // The e-form with a mistake: the child's name left out; the file is accepted and kept.
  const form = citizen.locator('form[enctype="multipart/form-data"]');
  const fields = {
    nguoi_yeu_cau: 'Nguyễn Văn An',
    so_dinh_danh: '031201001234',
    dien_thoai: '0912345678',
    ngay_sinh_tre: '2026-11-01',
    noi_sinh: 'Bệnh viện Phụ sản Hải Phòng',
    ho_ten_me: 'Trần Thị Bình',
  };
  for (const [name, value] of Object.entries(fields)) {
    await form.locator(`[name="${name}"]`).fill(value);
  }
  await form.locator('[name="quan_he"]').selectOption('Cha');
  await form.locator('[name="gioi_tinh"]').selectOption('Nam');
  await form.locator('[name="doc-0"]').setInputFiles({
    name: 'giay-chung-sinh.pdf',
    mimeType: 'application/pdf',
    buffer: PDF,
  });
  await going(citizen, () => citizen.getByRole('button', { name: /^(Nộp hồ sơ|Submit)$/ }).click());
  const summary = citizen.locator('.error-summary');
  expect((await summary.count()) === 1, 'an error summary at the top');
  expect(
    (await citizen.locator('#f-ho_ten_tre-error').count()) === 1,
    "the error next to the child's name",
  );
  expect(
    (await citizen.locator('[name="nguoi_yeu_cau"]').inputValue()) === 'Nguyễn Văn An',
    'what was typed is kept',
  );
  expect((await text(citizen)).includes('giay-chung-sinh.pdf'), 'the accepted upload is kept');
  await check(citizen, 'e-form-errors');
  expect(
    await citizen.evaluate(() => document.activeElement?.classList.contains('error-summary')),
    'the focus on the error summary',
  );
  // From the summary, by keyboard: the link puts the caret in the field.
  await summary.locator('a[href="#f-ho_ten_tre"]').focus();
  await citizen.keyboard.press('Enter');
  expect(
    await citizen.evaluate(() => document.activeElement?.id === 'f-ho_ten_tre'),
    "the caret in the child's name after following the summary's link",
  );
  await citizen.keyboard.type('Nguyễn Minh Khôi');
  await going(citizen, () => citizen.getByRole('button', { name: /^(Nộp hồ sơ|Submit)$/ }).click());
  const code = citizen.url().match(/\/dossiers\/([^/?#]+)/)?.[1];
  expect(code, `a dossier page after submitting, at ${citizen.url()}`);
  await check(citizen, 'dossier-submitted');
  await citizen.goto(`${base}/dossiers/${code}/print/receipt`);
  expect((await citizen.content()).includes('PHIẾU TIẾP NHẬN'), 'the receipt');
  await check(citizen, 'receipt');

  // The reception officer receives it; the handler asks for a supplement.
  const reception = await officialPage(browser, 'demo-reception');
  await reception.goto(`${base}/dossiers`);
  await check(reception, 'official-queue');
  await act(reception, code, 'receive');
  await check(reception, 'official-received');
  const handler = await officialPage(browser, 'demo-handler');
  await act(handler, code, 'request_supplement', async (f) => {
    await f.locator('textarea[name=reason]').fill('Bổ sung bản sao giấy chứng sinh rõ nét hơn');
  });

  // The citizen supplements with a file.
  await act(citizen, code, 'supplement', async (f) => {
    await f.locator('input[type=file]').setInputFiles({
      name: 'giay-chung-sinh-ro.pdf',
      mimeType: 'application/pdf',
      buffer: PDF,
    });
    await check(citizen, 'supplement');
  });
  expect((await text(citizen)).includes('giay-chung-sinh-ro.pdf'), 'the supplement in the dossier');

  // A fee: the handler asks for it, the citizen pays in the sandbox and gets the e-receipt.
  await act(handler, code, 'request_payment', async (f) => {
    await f.locator('input[name=amount_vnd]').fill('8000');
  });
  await citizen.goto(`${base}/dossiers/${code}`);
  await check(citizen, 'fee-due');
  await going(citizen, () => citizen.getByRole('button', { name: /Thanh toán trực tuyến|Pay online/ }).click());
  expect(citizen.url().includes('/sandbox/'), `the payment sandbox, at ${citizen.url()}`);
  await check(citizen, 'payment-sandbox');
  await going(citizen, () => citizen.locator('button[value="00"], button:has-text("Thanh toán")').first().click());
  await check(citizen, 'payment-return');
  const receiptLink = citizen.locator('a[href^="/payments/"][href$="/receipt"]').first();
  expect((await receiptLink.count()) === 1, 'a link to the e-receipt');
  await going(citizen, () => receiptLink.click());
  expect((await citizen.content()).includes('BIÊN LAI'), 'the e-receipt');
  await check(citizen, 'payment-receipt');

  // The handler completes the step, the approver signs the result, reception returns it.
  await act(handler, code, 'complete_step');
  const approver = await officialPage(browser, 'demo-approver');
  await act(approver, code, 'resolve', async (f) => {
    await f.locator('input[type=file]').setInputFiles({
      name: 'trich-luc-khai-sinh.pdf',
      mimeType: 'application/pdf',
      buffer: PDF,
    });
  });
  await act(reception, code, 'return');

  // The citizen sees the result and rates the service.
  await act(citizen, code, 'rate', async (f) => {
    await f.locator('input[value=very_satisfied]').check();
    await f.locator('textarea[name=comment]').fill('Nhanh, không phải đi lại');
    await check(citizen, 'rating');
  });
  const done = await text(citizen);
  expect(done.includes('trich-luc-khai-sinh.pdf'), 'the e-result on the dossier page');
  await check(citizen, 'dossier-returned');

  // A leader opens the dashboard.
  const leader = await officialPage(browser, 'demo-leader');
  await leader.goto(`${base}/dashboard`);
  const board = await text(leader);
  expect(/\d{2}\/\d{2}\/\d{4}/.test(board), 'the period written day first');
  expect(/\d+,\d %/.test(board), 'shares written with a decimal comma');
  expect((await leader.locator('#from').inputValue()) !== '', 'the period kept in the filters');
  await check(leader, 'dashboard');
  await going(leader, () => leader.locator('main a[href="/dashboard/reengineering"]').click());
  expect((await text(leader)).includes('1.001193'), 'birth registration in the re-engineering list');
  await check(leader, 'reengineering');
  await leader.goto(`${base}/statistics`);
  await check(leader, 'public-statistics');

  // An administrator adds a procedure with its e-form and steps, previews the form, saves;
  // a citizen submits a dossier for it straight away.
  const admin = await officialPage(browser, 'demo-admin');
  // Editing the catalogue is privileged: an elevation, approved by another administrator.
  await admin.goto(`${base}/admin`);
  await admin.getByLabel(/^Lý do/).fill('thêm thủ tục cấp phép chặt hạ cây xanh đô thị');
  await going(admin, () => admin.getByRole('button', { name: /Gửi yêu cầu|Ask/ }).click());
  const approverAdmin = await officialPage(browser, 'demo-admin-2');
  await approverAdmin.goto(`${base}/admin`);
  await check(approverAdmin, 'admin-elevation-waiting');
  await going(approverAdmin, () => approverAdmin.getByRole('button', { name: /^(Phê duyệt|Approve)$/ }).first().click());
  await admin.goto(`${base}/admin/procedures?q=khai+sinh`);
  await check(admin, 'admin-catalogue');
  await going(admin, () => admin.getByRole('link', { name: /Thêm thủ tục mới|Add a procedure/ }).click());
  await check(admin, 'admin-new-procedure');
  const editor = admin.locator('form.editor');
  await editor.getByLabel(/^Mã thủ tục/).fill('9.000902');
  await editor.getByLabel(/^Tên thủ tục/).fill('Cấp phép chặt hạ cây xanh đô thị');
  await editor.getByLabel(/^Lĩnh vực/).fill('Hạ tầng kỹ thuật đô thị');
  await editor.locator('input[name=levels][value=commune]').check();
  await editor.getByLabel(/^Thời hạn giải quyết/).fill('5');
  await editor.getByLabel(/^Giấy tờ phải nộp/).fill('Ảnh chụp hiện trạng cây');
  await editor.getByLabel(/^Lược đồ JSON Schema/).fill(JSON.stringify({
    type: 'object',
    'x-order': ['ten_cay', 'dia_diem'],
    required: ['ten_cay', 'dia_diem'],
    properties: {
      ten_cay: { type: 'string', minLength: 2, title: 'Loại cây xin chặt hạ', title_en: 'Kind of tree' },
      dia_diem: { type: 'string', minLength: 5, title: 'Địa điểm cây', title_en: 'Where the tree stands' },
    },
  }, null, 2));
  // A mistake first: the steps' shares add up to 90.
  await editor.locator('#steps-1-share').fill('20');
  await going(admin, () => admin.getByRole('button', { name: /^(Lưu|Save)$/ }).click());
  expect((await admin.locator('.error-summary a[href="#steps"]').count()) === 1, 'the shares named in the summary');
  expect((await admin.locator('#e-name').inputValue()) === 'Cấp phép chặt hạ cây xanh đô thị', 'the editor keeps what was typed');
  await check(admin, 'admin-procedure-errors');
  await admin.locator('#steps-1-share').fill('30');
  await going(admin, () => admin.getByRole('button', { name: /Xem trước biểu mẫu|Preview the form/ }).click());
  expect((await admin.locator('.preview #f-ten_cay').count()) === 1, 'the e-form previewed');
  await check(admin, 'admin-procedure-preview');
  await going(admin, () => admin.getByRole('button', { name: /^(Lưu|Save)$/ }).click());
  expect(admin.url().includes('/admin/procedures/9.000902?version='), `the saved procedure, at ${admin.url()}`);
  await check(admin, 'admin-procedure-saved');

  await citizen.goto(`${base}/procedures/9.000902/apply`);
  const treeForm = citizen.locator('form[enctype="multipart/form-data"]');
  await treeForm.getByLabel(/Loại cây xin chặt hạ/).fill('Cây phượng vĩ');
  await treeForm.getByLabel(/Địa điểm cây/).fill('Số 12 đường Lạch Tray');
  await treeForm.locator('[name="doc-0"]').setInputFiles({ name: 'hien-trang.pdf', mimeType: 'application/pdf', buffer: PDF });
  await going(citizen, () => citizen.getByRole('button', { name: /^(Nộp hồ sơ|Submit)$/ }).click());
  const treeCode = citizen.url().match(/\/dossiers\/([^/?#]+)/)?.[1];
  expect(treeCode, `a dossier for the new procedure, at ${citizen.url()}`);
  expect((await text(citizen)).includes('Cấp phép chặt hạ cây xanh đô thị'), 'the new procedure on the dossier');
  await check(citizen, 'new-procedure-dossier');

  // The administrator edits it: a shorter time from tomorrow is a new version; the dossier
  // just submitted keeps the version it was submitted under.
  await admin.goto(`${base}/admin/procedures/9.000902`);
  const tomorrow = new Date(Date.now() + (7 + 24) * 3600 * 1000).toISOString().slice(0, 10);
  await admin.locator('#e-effective_from').fill(tomorrow);
  await admin.locator('#e-days').fill('3');
  await going(admin, () => admin.getByRole('button', { name: /^(Lưu|Save)$/ }).click());
  expect(admin.url().includes(`version=${tomorrow}`), `the new version saved, at ${admin.url()}`);
  expect((await admin.locator('#versions-h + ul li').count()) === 2, 'two versions listed');
  await check(admin, 'admin-procedure-new-version');

  // The administrator's other pages: officials and roles, agencies, the holiday calendar.
  for (const [name, url] of [['admin-staff', '/admin/staff'], ['admin-agencies', '/admin/agencies'], ['admin-calendar', '/admin/calendar']]) {
    await admin.goto(`${base}${url}`);
    expect((await admin.locator('h1').count()) === 1, `the page ${url}`);
    await check(admin, name);
  }

  // Feedback: the citizen asks about a procedure; the ward's reception officer answers and
  // publishes; the answer is among the procedure's frequently asked questions.
  await citizen.goto(`${base}/feedback/new?procedure=1.001193`);
  await citizen.getByLabel(/Cơ quan nhận phản ánh/).selectOption('001.00.00.H31');
  await citizen.getByLabel(/^Tiêu đề/).fill('Khai sinh cho con sinh ở nước ngoài');
  await citizen.locator('#fb-body').fill('Con tôi sinh ở nước ngoài thì đăng ký khai sinh ở đâu?');
  await check(citizen, 'feedback-form');
  await going(citizen, () => citizen.getByRole('button', { name: /^(Gửi|Send)$/ }).click());
  expect((await text(citizen)).includes('Đang chờ trả lời'), 'the feedback waiting for an answer');
  await reception.goto(`${base}/desk/feedback`);
  await check(reception, 'feedback-desk');
  await reception.locator('input[name=publish]').first().check();
  await reception.locator('textarea[name=answer]').first().fill('Đăng ký tại cơ quan đại diện Việt Nam ở nước ngoài hoặc tại UBND cấp xã khi về nước.');
  await going(reception, () => reception.getByRole('button', { name: /Gửi trả lời|Send the answer/ }).first().click());
  await citizen.goto(`${base}/procedures/1.001193`);
  expect((await text(citizen)).includes('Khai sinh cho con sinh ở nước ngoài'), 'the answer among the FAQ');
  await citizen.goto(`${base}/feedback`);
  await check(citizen, 'feedback-published');

  // On a phone: the same pages fit a narrow screen without sideways scrolling.
  const phone = await browser.newContext({ bypassCSP: true, locale: 'vi-VN', viewport: { width: 360, height: 740 }, isMobile: true });
  const small = await phone.newPage();
  for (const [name, url] of [['phone-home', '/'], ['phone-procedure', '/procedures/1.001193'], ['phone-assistant', '/assistant?q=con+t%C3%B4i+m%E1%BB%9Bi+sinh']]) {
    await small.goto(`${base}${url}`);
    const overflow = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow <= 1, `${url} fits a 360 px screen (overflow ${overflow} px)`);
    await check(small, name);
  }
} catch (e) {
  report.error = String(e && e.stack ? e.stack : e);
} finally {
  await browser.close();
}
fs.writeFileSync(path.join(out, 'report.json'), JSON.stringify(report, null, 2));
const bad = report.pages.filter((p) => p.violations.length > 0);
for (const p of bad) {
  console.error(`${p.name} (${p.url}): ${p.violations.map((v) => `${v.id} at ${v.nodes.join(', ')}`).join('; ')}`);
}
if (report.error) console.error(report.error);
console.log(`${report.pages.length} pages checked, ${bad.length} with violations`);
process.exit(report.error || bad.length ? 1 : 0);
