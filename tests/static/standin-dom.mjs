// standin-dom.mjs: the least of a DOM that static/dom.js needs (elements,
// text nodes, attributes, listeners), for unit tests of the leaf modules
// under Node. It has no HTML parser: setting innerHTML, outerHTML or
// insertAdjacentHTML throws, so a test passes only when text goes in as
// text. The browser suite (tests/browser) runs the same code in Chromium.

export class Node {
    constructor() {
        this.childNodes = [];
        this.parentNode = null;
    }

    append(...nodes) {
        for (const n of nodes) {
            const node = n instanceof Node ? n : new Text(String(n));
            if (node.parentNode)
                node.parentNode.childNodes.splice(node.parentNode.childNodes.indexOf(node), 1);
            node.parentNode = this;
            this.childNodes.push(node);
        }
    }

    replaceChildren(...nodes) {
        for (const n of this.childNodes)
            n.parentNode = null;
        this.childNodes = [];
        this.append(...nodes);
    }

    get textContent() {
        return this.childNodes.map(n => n.textContent).join("");
    }

    set textContent(value) {
        this.replaceChildren(new Text(String(value)));
    }
}

export class Text extends Node {
    constructor(data) {
        super();
        this.data = data;
    }

    get textContent() {
        return this.data;
    }
}

function noParser() {
    throw new Error("the stand-in DOM parses no HTML: text must be set as text");
}

export class Element extends Node {
    constructor(tag) {
        super();
        this.tagName = tag.toUpperCase();
        this.attributes = new Map();
        this.listeners = new Map();
        this.dataset = {};
        this.className = "";
    }

    setAttribute(name, value) {
        this.attributes.set(name, String(value));
    }

    getAttribute(name) {
        return this.attributes.has(name) ? this.attributes.get(name) : null;
    }

    addEventListener(type, fn) {
        if (!this.listeners.has(type))
            this.listeners.set(type, []);
        this.listeners.get(type).push(fn);
    }

    get children() {
        return this.childNodes.filter(n => n instanceof Element);
    }

    // every element below this one, depth first
    descendants() {
        return this.children.flatMap(c => [c, ...c.descendants()]);
    }

    set innerHTML(v) { noParser(); }
    set outerHTML(v) { noParser(); }
    insertAdjacentHTML() { noParser(); }
}

// Installs document, Node, Text and Element as globals; returns the
// document, whose `created` lists the tag of every element made.
export function install() {
    const document = {
        created: [],
        createElement(tag) {
            this.created.push(tag);
            return new Element(tag);
        },
        createTextNode(data) {
            return new Text(String(data));
        },
    };
    Object.assign(globalThis, { document, Node, Text, Element });
    return document;
}
