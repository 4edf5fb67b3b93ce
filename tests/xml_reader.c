#include "xml_reader.h"

#include <check.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static int utf8_xml_chars(const char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        unsigned cp;
        int k;
        if (c < 0x80)
            cp = c, k = 1;
        else if ((c & 0xE0) == 0xC0)
            cp = c & 0x1F, k = 2;
        else if ((c & 0xF0) == 0xE0)
            cp = c & 0x0F, k = 3;
        else if ((c & 0xF8) == 0xF0)
            cp = c & 0x07, k = 4;
        else
            return 0;
        if (i + (size_t)k > n) return 0;
        for (int j = 1; j < k; j++) {
            if (((unsigned char)s[i + j] & 0xC0) != 0x80) return 0;
            cp = cp << 6 | ((unsigned char)s[i + j] & 0x3F);
        }
        static const unsigned least[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < least[k]) return 0; /* overlong */
        int ok = cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
                 (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
        if (!ok) return 0;
        i += (size_t)k;
    }
    return 1;
}

static int xml_fail(xdoc *d, const char *why) {
    if (!d->err) d->err = why;
    return -1;
}

static int at(xdoc *d, const char *lit) {
    return strncmp(d->s + d->pos, lit, strlen(lit)) == 0;
}

static void skip_space(xdoc *d) {
    while (d->pos < d->len && strchr(" \t\r\n", d->s[d->pos])) d->pos++;
}

static int name_start(char c) {
    return isalpha((unsigned char)c) || c == '_' || c == ':';
}
static int name_char(char c) {
    return name_start(c) || isdigit((unsigned char)c) || c == '-' || c == '.';
}

static int read_name(xdoc *d, char *out, size_t size) {
    size_t start = d->pos;
    if (d->pos >= d->len || !name_start(d->s[d->pos])) return xml_fail(d, "a name expected");
    while (d->pos < d->len && name_char(d->s[d->pos])) d->pos++;
    if (d->pos - start >= size) return xml_fail(d, "a name too long");
    memcpy(out, d->s + start, d->pos - start);
    out[d->pos - start] = '\0';
    return 0;
}

/* Decodes s[from, to) with its references into a new string; '<' refused. */
static char *decode(xdoc *d, size_t from, size_t to) {
    char *out = malloc(to - from + 1);
    size_t n = 0;
    for (size_t i = from; i < to;) {
        char c = d->s[i];
        if (c == '<') return free(out), xml_fail(d, "'<' in text or attribute"), NULL;
        if (c != '&') {
            out[n++] = c, i++;
            continue;
        }
        const char *semi = memchr(d->s + i, ';', to - i);
        if (!semi) return free(out), xml_fail(d, "'&' without ';'"), NULL;
        size_t k = (size_t)(semi - (d->s + i)) + 1;
        static const char *names[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
        static const char chars[] = "&<>\"'";
        int found = 0;
        for (int j = 0; j < 5; j++)
            if (strlen(names[j]) == k && strncmp(d->s + i, names[j], k) == 0)
                out[n++] = chars[j], found = 1;
        if (!found) {
            if (d->s[i + 1] != '#') return free(out), xml_fail(d, "an unknown entity"), NULL;
            char *end;
            long cp = d->s[i + 2] == 'x' ? strtol(d->s + i + 3, &end, 16)
                                         : strtol(d->s + i + 2, &end, 10);
            if (end != semi || cp < 0x20 || cp > 0x7E) /* enough for these tests */
                return free(out), xml_fail(d, "a bad character reference"), NULL;
            out[n++] = (char)cp;
        }
        i += k;
    }
    out[n] = '\0';
    return out;
}

static void append_text(xnode *node, const char *t) {
    size_t a = node->text ? strlen(node->text) : 0, b = strlen(t);
    node->text = realloc(node->text, a + b + 1);
    memcpy(node->text + a, t, b + 1);
}

static int parse_element(xdoc *d, int parent, int depth);

/* Character data, comments and child elements up to the end tag of node `self`. */
static int parse_content(xdoc *d, int self, int depth) {
    for (;;) {
        if (d->pos >= d->len) return xml_fail(d, "the document ends inside an element");
        if (at(d, "</")) return 0;
        if (at(d, "<!--")) {
            const char *end = strstr(d->s + d->pos + 4, "-->");
            if (!end) return xml_fail(d, "an unclosed comment");
            d->pos = (size_t)(end - d->s) + 3;
            continue;
        }
        if (at(d, "<![CDATA[") || at(d, "<?") || at(d, "<!"))
            return xml_fail(d, "markup not expected here");
        if (d->s[d->pos] == '<') {
            if (parse_element(d, self, depth + 1)) return -1;
            continue;
        }
        size_t start = d->pos;
        while (d->pos < d->len && d->s[d->pos] != '<') d->pos++;
        for (size_t i = start; i + 2 < d->pos; i++)
            if (strncmp(d->s + i, "]]>", 3) == 0) return xml_fail(d, "']]>' in text");
        if (d->s[start] == '>' || memchr(d->s + start, '>', d->pos - start)) {
            /* '>' is allowed in text, but this writer always escapes it */
            return xml_fail(d, "an unescaped '>' in text");
        }
        char *t = decode(d, start, d->pos);
        if (!t) return -1;
        append_text(&d->nodes[self], t);
        free(t);
    }
}

static int parse_element(xdoc *d, int parent, int depth) {
    if (depth > 64) return xml_fail(d, "too deep");
    d->pos++; /* '<' */
    if (d->count == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 256;
        d->nodes = realloc(d->nodes, (size_t)d->cap * sizeof *d->nodes);
    }
    int self = d->count++;
    xnode *node = &d->nodes[self];
    memset(node, 0, sizeof *node);
    node->parent = parent;
    node->depth = depth;
    if (read_name(d, node->name, sizeof node->name)) return -1;
    for (;;) {
        size_t before = d->pos;
        skip_space(d);
        if (d->pos >= d->len) return xml_fail(d, "the document ends inside a tag");
        if (at(d, "/>")) {
            d->pos += 2;
            return 0;
        }
        if (d->s[d->pos] == '>') {
            d->pos++;
            break;
        }
        if (d->pos == before) return xml_fail(d, "attributes must be separated by space");
        node = &d->nodes[self];
        if (node->nattrs == XML_MAX_ATTRS) return xml_fail(d, "too many attributes");
        char *an = node->attr_names[node->nattrs];
        if (read_name(d, an, 32)) return -1;
        for (int i = 0; i < node->nattrs; i++)
            if (strcmp(node->attr_names[i], an) == 0) return xml_fail(d, "a repeated attribute");
        skip_space(d);
        if (d->s[d->pos] != '=') return xml_fail(d, "'=' expected after an attribute name");
        d->pos++;
        skip_space(d);
        char q = d->s[d->pos];
        if (q != '"' && q != '\'') return xml_fail(d, "an unquoted attribute value");
        const char *end = memchr(d->s + d->pos + 1, q, d->len - d->pos - 1);
        if (!end) return xml_fail(d, "an unterminated attribute value");
        char *v = decode(d, d->pos + 1, (size_t)(end - d->s));
        if (!v) return -1;
        node->attr_values[node->nattrs++] = v;
        d->pos = (size_t)(end - d->s) + 1;
    }
    if (parse_content(d, self, depth)) return -1;
    d->pos += 2; /* "</" */
    char closing[32];
    if (read_name(d, closing, sizeof closing)) return -1;
    if (strcmp(closing, d->nodes[self].name) != 0) return xml_fail(d, "an end tag does not match");
    skip_space(d);
    if (d->pos >= d->len || d->s[d->pos] != '>')
        return xml_fail(d, "'>' expected to end an end tag");
    d->pos++;
    return 0;
}

void xdoc_free(xdoc *d) {
    for (int i = 0; i < d->count; i++) {
        for (int j = 0; j < d->nodes[i].nattrs; j++) free(d->nodes[i].attr_values[j]);
        free(d->nodes[i].text);
    }
    free(d->nodes);
}

xdoc xml_parse(const char *s, size_t len) {
    xdoc d = {.s = s, .len = len};
    ck_assert_msg(utf8_xml_chars(s, len), "not UTF-8 of XML characters");
    ck_assert_msg(strncmp(s, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>", 38) == 0,
                  "no XML declaration");
    d.pos = 38;
    skip_space(&d);
    ck_assert_msg(d.pos < len && s[d.pos] == '<' && name_start(s[d.pos + 1]), "no root element");
    parse_element(&d, -1, 0);
    skip_space(&d);
    if (!d.err && d.pos != len) d.err = "content after the root element";
    ck_assert_msg(!d.err, "not well-formed XML: %s at byte %zu", d.err ? d.err : "", d.pos);
    return d;
}

const char *xml_attr(const xnode *n, const char *name) {
    for (int i = 0; i < n->nattrs; i++)
        if (strcmp(n->attr_names[i], name) == 0) return n->attr_values[i];
    return NULL;
}

int xml_has_class(const xnode *n, const char *cls) {
    const char *c = xml_attr(n, "class");
    size_t k = strlen(cls);
    for (const char *p = c; p && (p = strstr(p, cls)); p += k)
        if ((p == c || p[-1] == ' ') && (p[k] == '\0' || p[k] == ' ')) return 1;
    return 0;
}

int xml_count(const xdoc *d, const char *name, const char *cls) {
    int k = 0;
    for (int i = 0; i < d->count; i++)
        k += strcmp(d->nodes[i].name, name) == 0 && (!cls || xml_has_class(&d->nodes[i], cls));
    return k;
}

const xnode *xml_nth_in(const xdoc *d, const char *name, const char *parent_cls, int i) {
    for (int k = 0; k < d->count; k++) {
        const xnode *n = &d->nodes[k];
        if (strcmp(n->name, name) == 0 && n->parent >= 0 &&
            xml_has_class(&d->nodes[n->parent], parent_cls) && i-- == 0)
            return n;
    }
    return NULL;
}

const xnode *xml_first(const xdoc *d, const char *name) {
    for (int i = 0; i < d->count; i++)
        if (strcmp(d->nodes[i].name, name) == 0) return &d->nodes[i];
    ck_abort_msg("no <%s>", name);
    return NULL;
}

const xnode *xml_with_class(const xdoc *d, const char *cls) {
    for (int i = 0; i < d->count; i++)
        if (xml_has_class(&d->nodes[i], cls)) return &d->nodes[i];
    ck_abort_msg("no element of class %s", cls);
    return NULL;
}

int xml_count_points(const char *points) {
    int k = 0;
    for (const char *p = points; *p; p++) k += *p == ',';
    return k;
}
