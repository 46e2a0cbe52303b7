// dom.js: the only way views build DOM. Text is always set with
// textContent and attributes with setAttribute: strings from the API or an
// image (names, labels, annotations) are attacker-controlled.

export function h(tag, props, ...children) {
    const node = document.createElement(tag);
    if (props) {
        for (const [key, value] of Object.entries(props)) {
            if (value === null || value === undefined || value === false)
                continue;
            if (key.startsWith("on") && typeof value === "function")
                node.addEventListener(key.substring(2).toLowerCase(), value);
            else if (key === "class")
                node.className = value;
            else if (key === "dataset")
                Object.assign(node.dataset, value);
            else if (key === "value" || key === "checked" || key === "disabled" || key === "selected")
                node[key] = value;
            else
                node.setAttribute(key, value === true ? "" : String(value));
        }
    }
    append(node, children);
    return node;
}

export function append(node, children) {
    for (const child of children.flat(Infinity)) {
        if (child === null || child === undefined || child === false)
            continue;
        node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
}

export function replace(node, ...children) {
    node.replaceChildren();
    return append(node, children);
}

export function $(selector, root = document) {
    return root.querySelector(selector);
}

export async function copyText(text, button) {
    try {
        await navigator.clipboard.writeText(text);
    } catch (e) {
        // clipboard API needs a secure context and permission; fall back
        const area = h("textarea", { class: "offscreen", readonly: true });
        area.value = text;
        document.body.append(area);
        area.select();
        document.execCommand("copy");
        area.remove();
    }
    if (button) {
        button.classList.add("copied");
        setTimeout(() => button.classList.remove("copied"), 1200);
    }
}

// The console's path prefix (UrlRoot): the page's directory, "" at the top.
export function urlRoot() {
    const path = location.pathname;
    return path.substring(0, path.lastIndexOf("/"));
}
