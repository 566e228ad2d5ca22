// HTML rendering: one layout for every page. All text is escaped; only page bodies that come
// from the built-in page definitions are trusted HTML.

const NAVIGATION = [
  { href: '/', label: 'Home' },
  { href: '/products.html', label: 'Products' },
  { href: '/about.html', label: 'About' },
  { href: '/contact.html', label: 'Contact' },
];

const HTML_ESCAPES = new Map([['&', '&amp;'], ['<', '&lt;'], ['>', '&gt;'], ['"', '&quot;'], ["'", '&#39;']]);

/** @param {unknown} value */
export function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (ch) => HTML_ESCAPES.get(ch) ?? ch);
}

/** Plain text with blank-line separated paragraphs → escaped <p> elements. */
export function textToParagraphs(text) {
  return String(text)
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter((p) => p.length > 0)
    .map((p) => `<p>${escapeHtml(p)}</p>`)
    .join('\n');
}

/**
 * @param {{ title: string, description: string, heading: string, bodyHtml: string,
 *   path: string, scripts?: string[] }} page
 * @param {{ version: string }} site
 */
export function renderPage(page, site) {
  const nav = NAVIGATION.map((item) => {
    const current = item.href === page.path ? ' aria-current="page"' : '';
    return `<li><a href="${item.href}"${current}>${escapeHtml(item.label)}</a></li>`;
  }).join('');
  const scripts = (page.scripts ?? []).map((src) => `<script src="${escapeHtml(src)}"></script>`).join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)} | Harbour Outfitters</title>
<meta name="description" content="${escapeHtml(page.description)}">
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/site.css">${scripts}
</head>
<body>
<a class="skip-link" href="#main">Skip to content</a>
<header class="site-header">
<a class="brand" href="/"><img src="/assets/logo.svg" alt="Harbour Outfitters logo" width="48" height="48"><span>Harbour Outfitters</span></a>
<nav aria-label="Main"><ul>${nav}</ul></nav>
</header>
<main id="main">
<h1>${escapeHtml(page.heading)}</h1>
${page.bodyHtml}
</main>
<footer class="site-footer"><p>&copy; Harbour Outfitters. Release <span class="version">${escapeHtml(site.version)}</span>.</p></footer>
</body>
</html>
`;
}
