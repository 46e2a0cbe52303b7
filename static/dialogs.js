// dialogs.js: modal dialogs on <dialog>: focus stays inside, Enter confirms,
// Escape cancels. Everything shown is text.

import { h } from "./dom.js";
import { _ } from "./i18n.js";

// fields: [{name, label, type, value, options:[[value,label]], placeholder, required, pattern,
//           list (the id of a <datalist> of suggestions)}]
// confirmText: if set, the user must type it exactly before the action is enabled.
export function dialog({ title, message, fields = [], action, actionClass = "primary", confirmText = null, run }) {
    return new Promise(resolve => {
        const inputs = {};
        const error = h("p", { class: "dialog-error", role: "alert" });
        const body = h("div", { class: "dialog-body" });
        if (message)
            body.append(...[].concat(message).map(m => (m instanceof Node ? m : h("p", null, m))));
        for (const f of fields) {
            const id = `field-${f.name}`;
            let input;
            if (f.type === "select") {
                input = h("select", { id, name: f.name },
                          f.options.map(([v, l]) => h("option", { value: v, selected: v === f.value }, l)));
            } else if (f.type === "radio") {
                input = h("div", { id, role: "radiogroup", "aria-label": f.label },
                          f.options.map(([v, l]) => h("label", { class: "radio" },
                              h("input", { type: "radio", name: f.name, value: v, checked: v === f.value }), " ", l)));
            } else {
                input = h("input", { id, name: f.name, type: f.type || "text", placeholder: f.placeholder || null,
                                     autocomplete: "off", spellcheck: "false", list: f.list || null });
                input.value = f.value || "";
            }
            inputs[f.name] = input;
            body.append(h("div", { class: "field" }, h("label", { for: id }, f.label), input,
                          f.help ? h("small", null, f.help) : null));
        }
        let typed = null;
        if (confirmText !== null) {
            typed = h("input", { id: "confirm-name", type: "text", autocomplete: "off", spellcheck: "false" });
            body.append(h("div", { class: "field" },
                          h("label", { for: "confirm-name" }, _("Type the name to confirm:"), " ", h("strong", null, confirmText)),
                          typed));
        }
        const ok = h("button", { type: "submit", class: actionClass }, action);
        const cancel = h("button", { type: "button", class: "secondary" }, _("Cancel"));
        const form = h("form", { method: "dialog" }, h("h2", null, title), body, error,
                       h("div", { class: "dialog-actions" }, cancel, ok));
        const dlg = h("dialog", { class: "modal", "aria-label": title }, form);
        document.body.append(dlg);

        const values = () => {
            const out = {};
            for (const [name, input] of Object.entries(inputs)) {
                if (input.getAttribute("role") === "radiogroup") {
                    const c = input.querySelector("input:checked");
                    out[name] = c ? c.value : null;
                } else {
                    out[name] = input.value.trim();
                }
            }
            return out;
        };
        const update = () => {
            ok.disabled = typed !== null && typed.value !== confirmText;
        };
        if (typed)
            typed.addEventListener("input", update);
        update();

        const finish = result => {
            dlg.close();
            dlg.remove();
            resolve(result);
        };
        cancel.addEventListener("click", () => finish(null));
        dlg.addEventListener("cancel", ev => {
            ev.preventDefault();
            finish(null);
        });
        form.addEventListener("submit", async ev => {
            ev.preventDefault();
            if (ok.disabled)
                return;
            const v = values();
            for (const f of fields) {
                if (f.required && !v[f.name]) {
                    error.textContent = `${f.label}: ${_("required")}`;
                    inputs[f.name].focus();
                    return;
                }
                if (f.pattern && v[f.name] && !new RegExp(`^(?:${f.pattern})$`).test(v[f.name])) {
                    error.textContent = `${f.label}: ${f.patternHelp || _("invalid value")}`;
                    inputs[f.name].focus();
                    return;
                }
            }
            ok.disabled = true;
            error.textContent = "";
            try {
                const result = run ? await run(v) : v;
                finish(result === undefined ? v : result);
            } catch (e) {
                error.textContent = e.message || String(e);
                ok.disabled = false;
            }
        });
        dlg.showModal();
        const first = body.querySelector("input, select");
        (first || ok).focus();
    });
}

export function confirmDelete({ title, what, typeName = null, run, action = null }) {
    return dialog({
        title,
        message: what,
        action: action || _("Delete"),
        actionClass: "danger",
        confirmText: typeName,
        run,
    });
}
