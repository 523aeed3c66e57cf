// Starts the server, acts out a short conversation between three people and saves PNGs of the main
// screens (desktop 1280x800 and phone 375x812, light and dark) to docs/screenshots/.
// Run after `npm run build`:  node packages/web/scripts/screenshots.mjs
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import {
  ROOT,
  ServerProcess,
  apiKeyOf,
  assertBuilt,
  launchBrowser,
  newUserPage,
  sendMessage,
  signIn,
  signUp,
} from '../test/harness.mjs';

const OUT = path.join(ROOT, 'docs/screenshots');
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 375, height: 812 };

assertBuilt();
fs.mkdirSync(OUT, { recursive: true });
const server = await ServerProcess.start();
const browser = await launchBrowser();

try {
  // Sign-up screen.
  for (const scheme of /** @type {const} */ (['light', 'dark'])) {
    const { page, context } = await newUserPage(browser, server.url, PHONE, scheme);
    await page.goto('/');
    await page.getByRole('textbox', { name: 'Username' }).fill('maya');
    await page.getByRole('textbox', { name: 'Display name' }).fill('Maya Chen');
    await page.getByLabel('Password', { exact: true }).fill('correct horse battery');
    await shot(page, `phone-signup-${scheme}`);
    await context.close();
  }

  const { page: maya } = await newUserPage(browser, server.url, DESKTOP);
  const { page: leo } = await newUserPage(browser, server.url, DESKTOP);
  await signUp(maya, 'maya', 'Maya Chen');
  await signUp(leo, 'leo', 'Leo Martins');
  const api = (method, p, key, body) => server.api(method, p, key, body);
  const sam = await api('POST', '/v1/users', null, { username: 'sam', displayName: 'Sam Patel' });
  const priya = await api('POST', '/v1/users', null, { username: 'priya', displayName: 'Priya Nair' });
  const mayaKey = await apiKeyOf(maya);
  const leoKey = await apiKeyOf(leo);
  const ids = {
    maya: (await api('GET', '/v1/me', mayaKey)).user.id,
    leo: (await api('GET', '/v1/me', leoKey)).user.id,
  };

  // Background chats so the list looks lived in.
  const hike = (
    await api('POST', '/v1/conversations', mayaKey, {
      memberIds: [ids.leo, sam.user.id, priya.user.id],
      title: 'Weekend hike 🥾',
    })
  ).conversation;
  let n = 0;
  const post = (key, cid, body, extra = {}) =>
    api('POST', `/v1/conversations/${cid}/messages`, key, { clientMsgId: `seed-${++n}`, body, ...extra });
  await post(sam.apiKey, hike.id, 'Trail report says the ridge path is open again 🎉');
  await post(priya.apiKey, hike.id, 'Perfect. Meet at the parking lot at 8?');
  await post(mayaKey, hike.id, 'Works for me, I will bring coffee ☕');
  const samDirect = (await api('POST', '/v1/conversations', sam.apiKey, { memberIds: [ids.maya] })).conversation;
  await post(sam.apiKey, samDirect.id, 'Can you send me the slides from Thursday?');
  await post(mayaKey, samDirect.id, 'Sure, here: https://example.org/slides/q3-review');
  await post(sam.apiKey, samDirect.id, 'Thanks!');
  const priyaDirect = (await api('POST', '/v1/conversations', priya.apiKey, { memberIds: [ids.leo] })).conversation;
  await post(priya.apiKey, priyaDirect.id, 'Are you joining on Saturday?');

  // The main conversation, through the UI so statuses, reactions and replies are real.
  const direct = (await api('POST', '/v1/conversations', mayaKey, { memberIds: [ids.leo] })).conversation;
  await maya.goto(`/#/c/${direct.id}`);
  await leo.goto(`/#/c/${direct.id}`);
  await maya.getByRole('textbox', { name: 'Message' }).waitFor();
  await leo.getByRole('textbox', { name: 'Message' }).waitFor();
  // Maya's chat opens as a request for Leo: he accepts it from the banner, as a person would.
  const banner = leo.getByRole('region', { name: 'Message request' });
  await banner.getByRole('button', { name: 'Accept request from Maya Chen' }).click();
  await banner.waitFor({ state: 'detached' });
  // The group, a request for him too (he shared no chat with Maya when she added him), he accepts
  // off screen. Priya's chat stays a request, for the Requests screenshot.
  await api('POST', `/v1/conversations/${hike.id}/accept`, leoKey);
  const say = async (page, text) => {
    await sendMessage(page, text);
    const other = page === maya ? leo : maya;
    await other.getByRole('article').filter({ hasText: text }).waitFor();
  };
  await say(maya, 'Hey Leo! Did you get a chance to look at the new design? 👀');
  await say(leo, 'Yes! The blue bubbles look great.');
  await say(leo, 'One thing: the chat list feels a bit tight on phones.');
  await say(maya, 'Good catch. I bumped the row height, have a look:\nhttps://example.org/design/v2');
  await say(leo, 'Much better 🙌');
  await say(maya, 'Lunch tomorrow to go through the rest?');

  // Leo reacts and replies to the design message.
  const designMsg = leo.getByRole('article').filter({ hasText: 'bumped the row height' });
  await designMsg.hover();
  await designMsg.getByRole('button', { name: 'React' }).click();
  await leo.getByRole('group', { name: 'Pick a reaction' }).getByRole('button', { name: '❤️' }).click();
  await maya
    .getByRole('article')
    .filter({ hasText: 'bumped the row height' })
    .getByRole('button', { name: '❤️ 1' })
    .waitFor();
  const lunch = leo.getByRole('article').filter({ hasText: 'Lunch tomorrow' });
  await lunch.hover();
  await lunch.getByRole('button', { name: 'More actions' }).click();
  await leo.getByRole('menuitem', { name: 'Reply' }).click();
  await say(leo, 'Sounds good, 12:30 at the usual place?');
  await maya
    .getByRole('article', { name: 'You' })
    .filter({ hasText: 'Lunch tomorrow' })
    .getByText('Seen', { exact: true })
    .waitFor();
  // Leo starts typing so the header shows it (the server passes one typing event per 2 s).
  await leo.waitForTimeout(2100);
  await leo.getByRole('textbox', { name: 'Message' }).pressSequentially('Perf');
  await maya.getByText('Leo Martins is typing…').waitFor();
  await leo.mouse.move(0, 0);
  await maya.mouse.move(0, 0);

  for (const scheme of /** @type {const} */ (['light', 'dark'])) {
    await maya.emulateMedia({ colorScheme: scheme });
    await shot(maya, `desktop-chat-${scheme}`);
  }
  await maya.emulateMedia({ colorScheme: 'light' });

  // Message actions open on the own message.
  const own = maya.getByRole('article', { name: 'You' }).filter({ hasText: 'Lunch tomorrow' });
  await own.hover();
  await own.getByRole('button', { name: 'More actions' }).click();
  await maya.getByRole('menuitem', { name: 'Reply' }).waitFor();
  await shot(maya, 'desktop-message-menu-light');
  await maya.keyboard.press('Escape');

  // Group chat with "Seen by N".
  await maya
    .getByRole('navigation', { name: 'Chats' })
    .getByRole('link', { name: /Weekend hike/ })
    .click();
  await maya.getByRole('heading', { name: 'Weekend hike 🥾' }).waitFor();
  for (const key of [sam.apiKey, priya.apiKey])
    await api('POST', `/v1/conversations/${hike.id}/read`, key, { seq: 100 });
  await maya.getByText('Seen by 2', { exact: true }).waitFor();
  await maya.emulateMedia({ colorScheme: 'dark' });
  await shot(maya, 'desktop-group-dark');
  await maya.emulateMedia({ colorScheme: 'light' });

  // Search.
  await maya.getByRole('searchbox', { name: 'Search messages' }).fill('design');
  await maya.getByRole('region', { name: 'Search results' }).locator('mark').first().waitFor();
  await shot(maya, 'desktop-search-light');
  await maya.getByRole('searchbox', { name: 'Search messages' }).fill('');

  // Media: a photo, a file and a voice message arrive in the group, uploaded over the HTTP API.
  const upload = async (key, name, contentType, bytes) => {
    const res = await fetch(`${server.url}/v1/uploads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': contentType, 'x-filename': encodeURIComponent(name) },
      body: bytes,
    });
    if (!res.ok) throw new Error(`upload ${name}: ${res.status} ${await res.text()}`);
    return (await res.json()).upload.id;
  };
  const photo = await upload(sam.apiKey, 'ridge.jpg', 'image/jpeg', await ridgePhoto());
  await post(sam.apiKey, hike.id, 'The view from the ridge last spring', { attachments: [photo] });
  const map = await upload(priya.apiKey, 'ridge-trail-map.pdf', 'application/pdf', trailMapPdf());
  await post(priya.apiKey, hike.id, 'Trail map, in case there is no signal up there', { attachments: [map] });
  const voice = await upload(sam.apiKey, 'Voice message.wav', 'audio/wav', voiceWav(7));
  await post(sam.apiKey, hike.id, '', { attachments: [voice] });
  await maya.getByRole('button', { name: 'Play voice message' }).waitFor();
  await imagesLoaded(maya);
  await maya.mouse.move(0, 0);
  for (const scheme of /** @type {const} */ (['light', 'dark'])) {
    await maya.emulateMedia({ colorScheme: scheme });
    await shot(maya, `desktop-media-${scheme}`);
  }
  await maya.emulateMedia({ colorScheme: 'light' });

  // Phone: list and chat as separate screens.
  await leo.getByRole('textbox', { name: 'Message' }).fill('');
  const phoneCtx = await browser.newContext({
    viewport: PHONE,
    baseURL: server.url,
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  });
  await phoneCtx.addInitScript(
    (session) => localStorage.setItem('messenger.session', session),
    JSON.stringify({ token: mayaKey, userId: ids.maya }),
  );
  const phone = await phoneCtx.newPage();
  await phone.goto('/');
  await phone.getByRole('navigation', { name: 'Chats' }).getByRole('link').first().waitFor();
  await post(priya.apiKey, hike.id, 'I can drive two people 🚗');
  await phone.getByRole('navigation', { name: 'Chats' }).getByText('I can drive two people').waitFor();
  for (const scheme of /** @type {const} */ (['light', 'dark'])) {
    await phone.emulateMedia({ colorScheme: scheme });
    await shot(phone, `phone-list-${scheme}`);
  }
  await phone
    .getByRole('navigation', { name: 'Chats' })
    .getByRole('link', { name: /Leo Martins/ })
    .click();
  await phone.getByRole('textbox', { name: 'Message' }).waitFor();
  await phone.getByRole('article').filter({ hasText: '12:30' }).waitFor();
  for (const scheme of /** @type {const} */ (['light', 'dark'])) {
    await phone.emulateMedia({ colorScheme: scheme });
    await shot(phone, `phone-chat-${scheme}`);
  }
  await phone.goto(`/#/c/${hike.id}`);
  await phone.getByRole('button', { name: 'Play voice message' }).waitFor();
  await imagesLoaded(phone);
  await phone.emulateMedia({ colorScheme: 'light' });
  await shot(phone, 'phone-media-light');
  // Leo's list: Priya's chat waits in Requests until he accepts or declines it.
  await leo.goto('/');
  await leo.getByRole('list', { name: 'Message requests' }).getByText('Are you joining on Saturday?').waitFor();
  await leo.mouse.move(0, 0);
  await shot(leo, 'desktop-requests-light');

  // Devices: Maya is signed in on the desktop and, since a moment ago, on a second browser.
  const { page: second } = await newUserPage(browser, server.url, DESKTOP);
  await signIn(second, 'maya');
  await maya.getByRole('button', { name: 'Account' }).click();
  await maya.getByRole('dialog', { name: 'Account' }).getByRole('button', { name: 'Devices' }).click();
  const devices = maya.getByRole('dialog', { name: 'Devices' });
  await devices.getByRole('listitem').nth(1).waitFor();
  for (const scheme of /** @type {const} */ (['light', 'dark'])) {
    await maya.emulateMedia({ colorScheme: scheme });
    await shot(maya, `desktop-devices-${scheme}`);
  }
  await maya.emulateMedia({ colorScheme: 'light' });
  await maya.keyboard.press('Escape');

  console.log(`screenshots saved to ${path.relative(process.cwd(), OUT) || OUT}`);
} finally {
  await browser.close();
  await server.dispose();
}

/** @param {import('playwright-core').Page} page @param {string} name */
async function shot(page, name) {
  // Let transitions and the typing dots settle on a stable frame.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  await page.screenshot({ path: path.join(OUT, `${name}.png`), animations: 'disabled' });
}

/** @param {import('playwright-core').Page} page */
async function imagesLoaded(page) {
  await page.waitForFunction(() => [...document.images].every((img) => img.complete && img.naturalWidth > 0));
}

/** A small landscape (sky, sun, two ridges) as a JPEG, drawn from SVG. */
function ridgePhoto() {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="960" height="640">
    <defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="#5b8fd6"/><stop offset="1" stop-color="#f4c68a"/></linearGradient></defs>
    <rect width="960" height="640" fill="url(#sky)"/>
    <circle cx="700" cy="250" r="60" fill="#fff3c4"/>
    <path d="M0 430 L180 270 L300 360 L470 210 L640 380 L780 300 L960 410 V640 H0Z" fill="#5d6f8c"/>
    <path d="M0 520 L220 400 L380 470 L560 360 L760 480 L960 430 V640 H0Z" fill="#2f4a3a"/>
    <path d="M0 600 L300 540 L600 590 L960 540 V640 H0Z" fill="#1f3328"/>
  </svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 80 }).toBuffer();
}

/** A one-page PDF; the app shows it as a file card, so its content only has to be a valid file. */
function trailMapPdf() {
  const text = 'BT /F1 24 Tf 72 720 Td (Ridge trail map) Tj ET';
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${text.length} >>\nstream\n${text}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let pdf = '%PDF-1.4\n';
  const offsets = objects.map((body, i) => {
    const at = pdf.length;
    pdf += `${i + 1} 0 obj\n${body}\nendobj\n`;
    return at;
  });
  const xref = pdf.length;
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const at of offsets) pdf += `${String(at).padStart(10, '0')} 00000 n \n`;
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(pdf, 'latin1');
}

/** `seconds` of a soft, wavering tone as 8 kHz 16-bit mono WAV: a stand-in for a recorded voice. */
function voiceWav(seconds) {
  const rate = 8000;
  const samples = rate * seconds;
  const wav = Buffer.alloc(44 + samples * 2);
  wav.write('RIFF', 0);
  wav.writeUInt32LE(36 + samples * 2, 4);
  wav.write('WAVEfmt ', 8);
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(rate, 24);
  wav.writeUInt32LE(rate * 2, 28);
  wav.writeUInt16LE(2, 32);
  wav.writeUInt16LE(16, 34);
  wav.write('data', 36);
  wav.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++) {
    const t = i / rate;
    const level = 0.3 * Math.abs(Math.sin(Math.PI * t * 1.7));
    wav.writeInt16LE(Math.round(level * 32767 * Math.sin(2 * Math.PI * (180 + 40 * Math.sin(t * 3)) * t)), 44 + i * 2);
  }
  return wav;
}
