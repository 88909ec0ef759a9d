// examcheck serve: live reading, checks and saving.  No external requests; MathML is
// parsed as XML and rebuilt from a whitelist of MathML elements before it reaches the page.
"use strict";
(function () {
  const DELAY_MS = 500;
  const MATHML_NS = "http://www.w3.org/1998/Math/MathML";
  const TAGS = new Set(["math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msup", "msub", "msubsup",
    "mfrac", "msqrt", "mroot", "mtable", "mtr", "mtd", "mstyle", "munder", "mover", "munderover", "mpadded",
    "mphantom", "menclose", "merror"]);
  const ATTRS = new Set(["display", "mathvariant", "stretchy", "fence", "separator", "linethickness",
    "columnalign", "form", "lspace", "rspace", "notation"]);
  const reveal = document.body.dataset.reveal;
  const saveButton = document.getElementById("save");
  const sheetStatus = document.getElementById("sheet-status");
  const parts = [];
  let pendingSheet = 0;

  function safeMath(markup) {
    const doc = new DOMParser().parseFromString(markup, "application/xml");
    if (doc.getElementsByTagName("parsererror").length) return null;
    function copy(node) {
      if (node.nodeType === Node.TEXT_NODE) return document.createTextNode(node.nodeValue);
      if (node.nodeType !== Node.ELEMENT_NODE || node.namespaceURI !== MATHML_NS || !TAGS.has(node.localName)) return null;
      const out = document.createElementNS(MATHML_NS, node.localName);
      for (const attr of Array.from(node.attributes)) {
        if (ATTRS.has(attr.name)) out.setAttribute(attr.name, attr.value);
      }
      for (const child of Array.from(node.childNodes)) {
        const c = copy(child);
        if (c) out.appendChild(c);
      }
      return out;
    }
    return copy(doc.documentElement);
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body),
      credentials: "same-origin", cache: "no-store",
    });
    let data = {};
    try { data = await response.json(); } catch (e) { data = {error: "the server sent an unreadable reply"}; }
    if (!response.ok) {
      const err = new Error(data.error || ("the server answered " + response.status));
      err.data = data;
      throw err;
    }
    return data;
  }

  function anyPending() {
    return pendingSheet > 0 || parts.some((p) => p.timer !== null || p.reading > 0 || p.checking > 0);
  }

  function refreshSave() {
    const busy = anyPending();
    saveButton.disabled = busy;
    saveButton.setAttribute("aria-busy", busy ? "true" : "false");
    document.body.dataset.pending = busy ? "true" : "false";
  }

  function setText(el, text, kind) {
    el.textContent = text || "";
    el.className = el.className.split(" ")[0] + (kind ? " " + kind : "");
  }

  function clearPart(p) {
    p.readingEl.replaceChildren();
    setText(p.messageEl, "", "");
    setText(p.resultEl, "", "");
  }

  function grow(textarea) {
    textarea.style.height = "auto";
    textarea.style.height = (textarea.scrollHeight + 2) + "px";
  }

  async function readNow(p) {
    p.timer = null;
    const seq = p.seq;
    const text = p.input.value;
    if (!text.trim()) { refreshSave(); return; }
    p.reading += 1;
    refreshSave();
    try {
      const data = await post("/api/read", {problem: p.problem, part: p.part, text: text, seq: seq});
      if (data.seq !== p.seq) return;  // the input changed since: this reading is stale
      if (data.ok) {
        const math = data.mathml ? safeMath(data.mathml) : null;
        const label = document.createElement("span");
        label.className = "as-read";
        label.textContent = "Read as: ";
        p.readingEl.replaceChildren(label, math || document.createTextNode(data.shown));
        setText(p.messageEl, data.message, data.message ? "note" : "");
      } else {
        p.readingEl.replaceChildren();
        setText(p.messageEl, data.message, data.message ? "error" : "");
      }
    } catch (err) {
      if (seq === p.seq) setText(p.messageEl, "Could not read this answer: " + err.message, "error");
    } finally {
      p.reading -= 1;
      refreshSave();
    }
  }

  function showResult(p, row) {
    const bits = [];
    const status = row.status || "";
    if (reveal === "none") {
      bits.push(row.read ? "Read." : (status === "missing" ? "No answer yet." : "Could not be read."));
    } else {
      bits.push(status.charAt(0).toUpperCase() + status.slice(1) +
        (row.max_score !== undefined ? " (" + row.score + "/" + row.max_score + ")" : "") + ".");
    }
    if (row.feedback) bits.push(row.feedback);
    if (row.expected) bits.push("Expected: " + row.expected);
    setText(p.resultEl, bits.join(" "), "status-" + status);
  }

  function allAnswers() {
    const answers = {};
    for (const p of parts) {
      if (!p.input.value.trim()) continue;
      (answers[p.problem] = answers[p.problem] || {})[p.part] = p.input.value;
    }
    return answers;
  }

  async function checkPart(p) {
    const seq = p.seq;
    p.checking += 1;
    refreshSave();
    setText(p.resultEl, "Checking…", "pending");
    try {
      const answers = {};
      answers[p.problem] = {};
      answers[p.problem][p.part] = p.input.value;
      const data = await post("/api/check", {answers: answers, problem: p.problem, part: p.part, student: studentId()});
      if (seq !== p.seq) { setText(p.resultEl, "", ""); return; }
      showResult(p, data.parts[0]);
    } catch (err) {
      if (seq === p.seq) setText(p.resultEl, "Could not check: " + err.message, "error");
    } finally {
      p.checking -= 1;
      refreshSave();
    }
  }

  async function checkAll() {
    const seqs = new Map(parts.map((p) => [p, p.seq]));
    pendingSheet += 1;
    refreshSave();
    setText(sheetStatus, "Checking all answers…", "pending");
    try {
      const data = await post("/api/check", {answers: allAnswers(), student: studentId()});
      for (const row of data.parts) {
        const p = parts.find((q) => q.problem === row.problem && q.part === row.part);
        if (p && seqs.get(p) === p.seq) showResult(p, row);
      }
      const total = data.max_score !== undefined ? " Total: " + data.score + "/" + data.max_score + "." : "";
      setText(sheetStatus, "Checked." + total, "done");
    } catch (err) {
      setText(sheetStatus, "Could not check: " + err.message, "error");
    } finally {
      pendingSheet -= 1;
      refreshSave();
    }
  }

  function studentId() {
    const fixed = document.getElementById("student-fixed");
    if (fixed) return fixed.textContent;
    return document.getElementById("student").value.trim();
  }

  function download(filename, text) {
    const url = URL.createObjectURL(new Blob([text], {type: "application/x-yaml"}));
    const link = document.createElement("a");
    link.href = url;
    link.download = filename;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  function localFile(student, answers) {
    // Built in the browser when the server sent no file: JSON (ASCII, YAML's \u/\U escapes) is YAML, so `examcheck grade` reads it.
    const exam = document.body.dataset.exam || "";
    const text = "# Saved by examcheck serve (in the browser: the server did not take it); " +
      "grade it with: examcheck grade FILE\n" + JSON.stringify({student: student, exam: exam, answers: answers}, null, 2)
        .replace(/[^\x00-\x7e]/gu, (c) => {
          const code = c.codePointAt(0);
          return code > 0xffff ? "\\U" + code.toString(16).padStart(8, "0") : "\\u" + code.toString(16).padStart(4, "0");
        }) + "\n";
    return {filename: student + ".yaml", yaml: text};
  }

  async function save() {
    if (anyPending()) return;
    const student = studentId();
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(student)) {
      setText(sheetStatus, "Enter your student ID (letters, digits, '.', '_' or '-') before saving.", "error");
      const field = document.getElementById("student");
      if (field) field.focus();
      return;
    }
    pendingSheet += 1;
    refreshSave();
    try {
      const body = {student: student, answers: allAnswers()};
      const tokenField = document.getElementById("token");
      if (tokenField) body.token = tokenField.value.trim();
      let data;
      try {
        data = await post("/api/save", body);
      } catch (err) {
        // The hand-in was refused (or the server is unreachable): the download never depends on it.
        const given = err.data && typeof err.data.yaml === "string" ? err.data : localFile(student, body.answers);
        download(given.filename, given.yaml);
        setText(sheetStatus, "Not handed in: " + err.message + ". Your answers were downloaded as " + given.filename +
                "; keep that file.", "error");
        return;
      }
      download(data.filename, data.yaml);
      const handed = data.collected ? " and handed it in" + (data.version ? " (version " + data.version + ")" : "") : "";
      setText(sheetStatus, "Saved " + data.filename + handed + ".", "done");
    } finally {
      pendingSheet -= 1;
      refreshSave();
    }
  }

  for (const el of document.querySelectorAll(".part")) {
    const pid = el.dataset.problem + "--" + el.dataset.part;
    const p = {
      problem: el.dataset.problem, part: el.dataset.part, input: el.querySelector("textarea"),
      readingEl: document.getElementById("read-" + pid), messageEl: document.getElementById("msg-" + pid),
      resultEl: document.getElementById("res-" + pid), seq: 0, timer: null, reading: 0, checking: 0,
    };
    parts.push(p);
    p.input.addEventListener("input", () => {
      p.seq += 1;  // every older reading or check is now stale
      clearPart(p);
      if (sheetStatus.classList.contains("done")) setText(sheetStatus, "", "");  // a total or save note for older answers
      grow(p.input);
      if (p.timer !== null) clearTimeout(p.timer);
      p.timer = p.input.value.trim() ? setTimeout(() => readNow(p), DELAY_MS) : null;
      refreshSave();
    });
    p.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); checkPart(p); }
    });
    el.querySelector("button.check-part").addEventListener("click", () => checkPart(p));
    grow(p.input);
  }
  document.getElementById("check-all").addEventListener("click", checkAll);
  saveButton.addEventListener("click", save);
  refreshSave();
})();
