# The scanner of check_docs.sh: reads Markdown documents and reports every
# word in them that the code does not back, one line each,
#     DOC:LINE: what is wrong
# on stdout. The facts it checks against come from check_docs.sh in files
# under `facts` (one item a line); paths it cannot settle alone (globs, the
# build tree) go to `facts "/paths"` for the shell to test. mawk-compatible
# (POSIX awk, no gawk extensions).
#
# A document is read in units: a paragraph (lines up to a blank line), a
# table row, a heading, or a fenced code block. What a unit names (the files
# in its backticks) decides where an identifier may come from.

function fail(line, msg) {
    printf "%s:%d: %s\n", FILENAME, line, msg
    failures++
}

function trim(s) {
    sub(/^[ \t]+/, "", s)
    sub(/[ \t]+$/, "", s)
    return s
}

function load_set(file, set,    line) {
    while ((getline line < file) > 0) set[line] = 1
    close(file)
}

# The whole text of a repository file, cached; "" when it cannot be read.
function text_of(path,    line, t) {
    if (path in texts) return texts[path]
    t = ""
    while ((getline line < (src "/" path)) > 0) t = t line "\n"
    close(src "/" path)
    texts[path] = t
    return t
}

function has_word(path, word,    t) {
    t = text_of(path)
    return match(t, "(^|[^A-Za-z0-9_])" word "([^A-Za-z0-9_]|$)") > 0
}

# "a/./b/../c" -> "a/c"
function normalize(p,    n, parts, out, k, i) {
    n = split(p, parts, "/")
    k = 0
    for (i = 1; i <= n; i++) {
        if (parts[i] == "" || parts[i] == ".") continue
        if (parts[i] == "..") {
            if (k > 0) k--
            else out[++k] = ".."
            continue
        }
        out[++k] = parts[i]
    }
    p = ""
    for (i = 1; i <= k; i++) p = p (i > 1 ? "/" : "") out[i]
    return p
}

# A token of a document as a path in the repository ("" when it is not
# one): its first component a top folder of the tree, "build/..." the build
# tree (written "@build/..."), "zoo/X.h" a public header. NAME and PLUGIN
# stand for any name.
function repo_path(tok,    first) {
    sub(/^[(\[<'"]+/, "", tok)
    sub(/[)\]>,;:'".]+$/, "", tok)
    if (tok ~ /^zoo\/[A-Za-z0-9_]+\.h$/) return "core/include/" tok
    if (index(tok, "/") == 0 || tok ~ /^[a-z]+:\/\//) return ""
    first = substr(tok, 1, index(tok, "/") - 1)
    if (!(first in top)) return ""
    if (tok !~ /^[A-Za-z0-9_.*\/+-]+$/) return ""
    gsub(/NAME|PLUGIN/, "*", tok)
    if (first == "build") return "@" tok
    return tok
}

# Records path (from repo_path) for the shell to test, as written on line.
function want_path(line, written, path) {
    printf "%s:%d\t%s\t%s\n", FILENAME, line, written, path > (facts "/paths")
}

# The headings of a Markdown file as GitHub's anchors, into anchors[file, slug].
function load_anchors(file,    line, fence, s) {
    if (file in anchored) return
    anchored[file] = 1
    fence = 0
    while ((getline line < (src "/" file)) > 0) {
        if (line ~ /^[ \t]*```/) fence = !fence
        if (fence || line !~ /^#+ /) continue
        s = tolower(line)
        sub(/^#+ +/, "", s)
        gsub(/[^a-z0-9 _-]/, "", s)
        gsub(/ /, "-", s)
        anchors[file, s] = 1
    }
    close(src "/" file)
}

function check_link(line, target,    file, anchor, i) {
    if (target ~ /^[a-z]+:/) return # a URL
    anchor = ""
    i = index(target, "#")
    if (i > 0) {
        anchor = substr(target, i + 1)
        target = substr(target, 1, i - 1)
    }
    file = target == "" ? FILENAME : normalize(docdir "/" target)
    if (target != "") {
        if (file ~ /^\.\./) return # outside the repository (../shared/...)
        want_path(line, target, file)
    }
    if (anchor != "" && file ~ /\.md$/) {
        load_anchors(file)
        if (!((file, anchor) in anchors))
            fail(line, "link to '" target "#" anchor "': " file " has no heading with that anchor")
    }
}

# --- units ---------------------------------------------------------------

function add_line(text, line) {
    n_unit++
    unit[n_unit] = text
    unit_at[n_unit] = line
}

# The backtick spans of s, into spans[1..n]; returns n.
function spans_of(s, spans,    n) {
    n = 0
    while (match(s, /`[^`]+`/)) {
        spans[++n] = substr(s, RSTART + 1, RLENGTH - 2)
        s = substr(s, RSTART + RLENGTH)
    }
    return n
}

# The commands written in s, `zoo WORD` at its start or after a shell
# separator or "(" (not "a zoo plugin" in a message): each WORD must be one
# that zoo --help lists.
function check_commands(line, s,    word) {
    while (match(s, /(^|[(;&|])[ \t]*(\$[ \t]+)?([^ \t`'"()]*\/)?zoo[ \t]+[a-z][a-z-]*/)) {
        word = substr(s, RSTART, RLENGTH)
        s = substr(s, RSTART + RLENGTH)
        sub(/.*[ \t]/, "", word)
        if (!(word in commands))
            fail(line, "'zoo " word "': the built zoo has no command '" word \
                "' (zoo --help lists them)")
    }
}

function known_prefix(p,    id) {
    for (id in public) if (index(id, p) == 1) return 1
    for (id in host) if (index(id, p) == 1) return 1
    return 0
}

# Where an identifier may come from: libzoo's public headers; a host header
# when the unit names a host/ path (the document says it is the host's); a
# file the unit names; the build files (an option); an environment variable
# the host or libzoo reads.
function check_identifier(line, id, after,    p) {
    if (id in public || id in buildnames || id in env) return
    if (after == "*" && known_prefix(id)) return
    if ((id in host) && unit_names_host) return
    for (p in unit_files) if (has_word(p, id)) return
    if (id in host)
        return fail(line, "'" id "' is the host's (a host header declares it), but its paragraph " \
            "names no host/ path")
    fail(line, "'" id "' is not declared in core/include/zoo/*.h" \
        (n_unit_files ? " or in a file this paragraph names" : "") \
        " (nor is it a build option or an environment variable zoo reads)")
}

# Every zoo_* / ZOO_* word of s that starts a word (or follows -D, a CMake
# option on a command line).
function check_identifiers(line, s,    id, before, after, option) {
    while (match(s, /(zoo|ZOO)_[A-Za-z0-9_]*[A-Za-z0-9]/)) {
        id = substr(s, RSTART, RLENGTH)
        before = RSTART > 1 ? substr(s, RSTART - 1, 1) : ""
        option = RSTART > 2 && substr(s, RSTART - 2, 2) == "-D"
        after = substr(s, RSTART + RLENGTH, 1)
        s = substr(s, RSTART + RLENGTH)
        if (before !~ /[A-Za-z0-9_]/ || option) check_identifier(line, id, after)
    }
}

# The repository files a unit names, for check_identifier.
function collect_files(code,    i, n, k, spans, p) {
    for (p in unit_files) delete unit_files[p]
    n_unit_files = 0
    unit_names_host = 0
    for (i = 1; i <= n_unit; i++) {
        n = code ? split(unit[i], spans, /[ \t]+/) : spans_of(unit[i], spans)
        for (k = 1; k <= n; k++) {
            if (!code && index(spans[k], " ")) continue
            if ((p = repo_path(spans[k])) == "") continue
            if (p ~ /^host\//) unit_names_host = 1
            if (p ~ /[*@]/ || p ~ /\/$/) continue
            unit_files[p] = 1
            n_unit_files++
        }
    }
}

# A paragraph, heading, table row or code block that quotes no file.
function check_unit(lang,    i, k, n, s, spans, toks, m, j, p, code, shell) {
    if (n_unit == 0) return
    code = lang != "-"
    shell = lang == "sh" || lang == "console" || lang == "text" || lang == ""
    collect_files(code)
    for (i = 1; i <= n_unit; i++) {
        s = unit[i]
        check_identifiers(unit_at[i], s)
        if (code) {
            if (shell) check_commands(unit_at[i], s)
            if (lang == "sh" || lang == "console") {
                m = split(s, toks, /[ \t=]+/)
                for (j = 1; j <= m; j++)
                    if ((p = repo_path(toks[j])) != "") want_path(unit_at[i], toks[j], p)
            }
            continue
        }
        n = spans_of(s, spans)
        for (k = 1; k <= n; k++) {
            check_commands(unit_at[i], spans[k])
            m = split(spans[k], toks, /[ \t]+/)
            for (j = 1; j <= m; j++)
                if ((p = repo_path(toks[j])) != "") want_path(unit_at[i], toks[j], p)
        }
        while (match(s, /\]\([^)]+\)/)) {
            check_link(unit_at[i], substr(s, RSTART + 2, RLENGTH - 3))
            s = substr(s, RSTART + RLENGTH)
        }
    }
}

function end_unit() {
    check_unit("-")
    n_unit = 0
}

# --- quoted code ---------------------------------------------------------

function elision(s) {
    return s == "..." || s == "/* ... */" || s == "// ..." || s == "# ..."
}

# A fenced block that names a file must be that file's text, in order, each
# run of lines between `...` lines found whole (indentation aside).
function check_quote(file,    path, n, line, fl, a, b, pos, p, k, best_k, found, at) {
    path = repo_path(file)
    if (path == "" || path ~ /[*@]/) {
        fail(block_at, "the block quotes '" file "', which is not a file of the repository")
        return
    }
    n = 0
    while ((getline line < (src "/" path)) > 0) fl[++n] = trim(line)
    close(src "/" path)
    if (n == 0) {
        fail(block_at, "the block quotes " path ", which does not exist or is empty")
        return
    }
    pos = 1
    a = 1
    while (a <= n_block) {
        if (elision(block[a])) {
            a++
            continue
        }
        for (b = a; b < n_block && !elision(block[b + 1]); b++);
        found = 0
        best_k = -1
        for (p = pos; p + (b - a) <= n && !found; p++) {
            for (k = 0; a + k <= b && fl[p + k] == block[a + k]; k++);
            if (a + k > b) {
                found = 1
                pos = p + (b - a) + 1
            } else if (k > best_k) {
                best_k = k
            }
        }
        if (!found) { # name the first line that no longer matches
            at = a + (best_k > 0 ? best_k : 0)
            fail(block_line[at], "the quote of " path " differs from it: '" block[at] "' is not " \
                (best_k > 0 ? "the next line there" : "in it (after the lines quoted before)"))
            return
        }
        a = b + 1
    }
}

# --- the host contract: tables after <!-- check: KIND --> ----------------

function cells_of(row, cells,    n) {
    gsub(/\\\|/, "\001", row)
    sub(/^[ \t]*\|/, "", row)
    sub(/\|[ \t]*$/, "", row)
    return split(row, cells, /\|/)
}

function first_span(s,    spans) {
    return spans_of(s, spans) ? spans[1] : ""
}

function check_row(line, row,    cells, n, name, spans, k, m, ops, i, p, cited) {
    n = cells_of(row, cells)
    name = first_span(cells[1])
    if (table_kind == "hparams") {
        if (name == "") return fail(line, "a row of the hyperparameter table without a `name`")
        doc_hparams[name] = FILENAME ":" line
        if (!(name in host_hparams))
            fail(line, "hyperparameter '" name "': the host never reads or sets it (host/*.c)")
        for (i = 1; i <= n; i++) {
            m = spans_of(cells[i], spans)
            for (k = 1; k <= m; k++) {
                p = repo_path(spans[k])
                if (p == "" || p ~ /[*@]/ || p ~ /\/$/) continue
                if (index(text_of(p), "\"" name "\"") == 0)
                    fail(line, "hyperparameter '" name "': " p " does not use it")
            }
        }
    } else if (table_kind == "capabilities") {
        if (!(name in caps)) return fail(line, "'" name "' is not a capability flag of zoo/plugin.h")
        doc_caps[name] = 1
        m = spans_of(cells[2], spans)
        for (i in ops) delete ops[i]
        for (k = 1; k <= m; k++) {
            ops[spans[k]] = 1
            if (!(spans[k] in plugin_ops))
                fail(line, "'" spans[k] "' is not an operation of zoo_plugin_ops")
            else if (index(" " caps[name] " ", " " spans[k] " ") == 0)
                fail(line, "'" spans[k] "' is not an operation of " name " (zoo/plugin.h)")
        }
        split(caps[name], spans, " ")
        for (k in spans)
            if (spans[k] in plugin_ops && !(spans[k] in ops))
                fail(line, name " has the operation '" spans[k] "' (zoo/plugin.h), which the " \
                    "row does not list")
        m = spans_of(cells[n], spans)
        for (k = 1; k <= m; k++) {
            p = repo_path(spans[k])
            if (p == "" || p ~ /[*@]/ || p ~ /\/$/) continue
            cited = has_word(p, name)
            for (i in ops) cited = cited || has_word(p, i)
            if (!cited) fail(line, name ": " p " uses neither the flag nor its operations")
        }
    } else if (table_kind == "objectives") {
        if (!(name in objectives)) return fail(line, "'" name "' is not an objective of zoo/plugin.h")
        doc_objectives[name] = 1
    } else {
        fail(line, "unknown table kind '" table_kind "' (hparams, capabilities, objectives)")
    }
}

# --- the documents ---------------------------------------------------------

BEGIN {
    split("core host plugins tests docs configs registry .ci build", t, " ")
    for (i in t) top[t[i]] = 1
    load_set(facts "/public", public)
    load_set(facts "/host", host)
    load_set(facts "/build", buildnames)
    load_set(facts "/env", env)
    load_set(facts "/commands", commands)
    load_set(facts "/ops", plugin_ops)
    load_set(facts "/objectives", objectives)
    load_set(facts "/hparams", host_hparams)
    while ((getline line < (facts "/caps")) > 0) {
        name = line
        sub(/ .*/, "", name)
        caps[name] = line
    }
    close(facts "/caps")
    printf "" > (facts "/paths")
}

FNR == 1 {
    if (in_fence) fail(block_at, "the code block is never closed")
    end_unit()
    in_fence = 0
    table_kind = ""
    docdir = FILENAME
    if (!sub(/\/[^\/]*$/, "", docdir)) docdir = "."
}

in_fence {
    if ($0 ~ /^[ \t]*```[ \t]*$/) {
        in_fence = 0
        if (quoted != "") {
            check_quote(quoted)
        } else {
            n_unit = 0
            for (i = 1; i <= n_block; i++) add_line(block[i], block_line[i])
            check_unit(lang)
            n_unit = 0
        }
        next
    }
    block[++n_block] = trim($0)
    block_line[n_block] = FNR
    next
}

/^[ \t]*```/ {
    end_unit()
    info = $0
    sub(/^[ \t]*```[ \t]*/, "", info)
    split(info, words, /[ \t]+/)
    lang = words[1]
    quoted = words[2]
    if ((lang == "c" || lang == "cmake" || lang == "make") && quoted == "")
        fail(FNR, "a " lang " block must name the file it quotes (```" lang " path/to/file)")
    in_fence = 1
    n_block = 0
    block_at = FNR
    next
}

/<!-- check: [a-z]+ -->/ {
    end_unit()
    table_kind = $0
    sub(/.*<!-- check: /, "", table_kind)
    sub(/ -->.*/, "", table_kind)
    table_rows = 0
    table_at[table_kind] = FILENAME ":" FNR
    next
}

/^[ \t]*$/ {
    end_unit()
    if (table_rows > 0) table_kind = ""
    next
}

/^[ \t]*\|/ {
    end_unit()
    add_line($0, FNR)
    end_unit()
    if (table_kind != "") {
        if (table_rows++ > 0 && $0 !~ /^[ \t]*\|[ \t:|-]+$/) check_row(FNR, $0)
    }
    next
}

/^#/ {
    end_unit()
    add_line($0, FNR)
    end_unit()
    next
}

{
    add_line($0, FNR)
}

END {
    if (in_fence) fail(block_at, "the code block is never closed")
    end_unit()
    if ("hparams" in table_at)
        for (name in host_hparams)
            if (!(name in doc_hparams))
                printf "%s: the host reads or sets hyperparameter '%s', which the table does not list\n",
                    table_at["hparams"], name
    if ("capabilities" in table_at)
        for (name in caps)
            if (!(name in doc_caps))
                printf "%s: zoo/plugin.h defines %s, which the table does not list\n",
                    table_at["capabilities"], name
    if ("objectives" in table_at)
        for (name in objectives)
            if (!(name in doc_objectives))
                printf "%s: zoo/plugin.h defines %s, which the table does not list\n",
                    table_at["objectives"], name
}
