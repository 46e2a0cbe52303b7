// backend.js: one model over two backends.
//   OpenShift master: projects, image streams, images, role bindings, watches.
//   Distribution v2 registry: namespaces = projects, repositories = streams,
//   tags = tags, image = manifest + config blob.

import { json, http, watch, query, rows } from "./channel.js";
import { _, format } from "./i18n.js";
import { configHistory } from "./history.js";
import { limiter } from "./limit.js";
import { isDigest, byteSize } from "./taglist.js";

const IS = "/apis/image.openshift.io/v1";
const PROJ = "/apis/project.openshift.io/v1";
const RBAC = "/apis/rbac.authorization.k8s.io/v1";
const USERS = "/apis/user.openshift.io/v1";
const SSAR = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";

// OpenShift: Image objects read at once for their blobs, and the platforms
// of a manifest list counted at most.
const IMAGE_READS = 8;
export const PLATFORMS_MAX = 64;

// How long an answer about what the user may do is kept.
const ACCESS_TTL = 60000;

// What a user may do, for the UI to offer only that. "known" is false when
// the backend cannot tell (then everything is offered and the backend's
// refusal is shown); "unchecked" is true as well when it could have told
// but the question failed (the page says so).
//   pull, push, deleteImage      images of a repository or project
//   createStream, editStream, deleteStream, editMembers, deleteProject
//                                OpenShift projects and image streams
export const NOTHING_KNOWN = Object.freeze({
    known: false, unchecked: false, pull: true, push: true, deleteImage: true, createStream: true, editStream: true,
    deleteStream: true, editMembers: true, deleteProject: true,
});

function cached(map, key, make) {
    const hit = map.get(key);
    if (hit && Date.now() - hit.at < ACCESS_TTL)
        return hit.value;
    const value = make();
    map.set(key, { at: Date.now(), value });
    // a failure is not kept
    value.catch(() => map.delete(key));
    return value;
}

export const ROLES = ["registry-admin", "registry-editor", "registry-viewer"];

const MANIFEST_ACCEPT = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

const INDEX_TYPES = ["application/vnd.oci.image.index.v1+json",
                     "application/vnd.docker.distribution.manifest.list.v2+json"];

function enc(s) {
    return encodeURIComponent(s);
}

function repoPath(name) {
    // repository names contain "/" that the registry expects literally
    return name.split("/").map(enc).join("/");
}

function normalizeConfig(c) {
    c = c || {};
    return {
        cmd: c.Cmd || null,
        entrypoint: c.Entrypoint || null,
        workingDir: c.WorkingDir || "",
        user: c.User || "",
        ports: Object.keys(c.ExposedPorts || {}),
        volumes: Object.keys(c.Volumes || {}),
        env: c.Env || [],
        labels: c.Labels || {},
    };
}

/* ------------------------------------------------------------ OpenShift */

// The image's own config (dockerImageConfig, a JSON string: the OCI/Docker
// image config), or null. The image metadata (openshift/api
// docker10.DockerImage) has neither the OS nor the build history; this has.
function imageConfig(image) {
    try {
        return image.dockerImageConfig ? JSON.parse(image.dockerImageConfig) : null;
    } catch (e) {
        return null;
    }
}

// An image's layers, base first. Old images list theirs the other way round
// (annotation image.openshift.io/dockerLayersOrder: descending).
function imageLayers(image) {
    const layers = (image.dockerImageLayers || []).map(l => ({ digest: l.name, size: byteSize(l.size) || 0, mediaType: l.mediaType }));
    const order = (image.metadata.annotations || {})["image.openshift.io/dockerLayersOrder"];
    return order === "descending" ? layers.reverse() : layers;
}

// Items per page of a list: the master answers at most that many (maybe
// fewer) and metadata.continue while there are more.
export const PAGE = 500;

function withQuery(path, query) {
    return path + (path.includes("?") ? "&" : "?") + query;
}

// Every item of a collection, page by page ({items, resourceVersion}). A
// continue token the master has compacted away (410 Expired) starts the
// list again.
async function listAll(path) {
    for (let attempt = 0; ; attempt++) {
        const items = [];
        let cont = "";
        try {
            for (;;) {
                const q = `limit=${PAGE}` + (cont ? `&continue=${enc(cont)}` : "");
                const { body } = await json("master", "GET", withQuery(path, q));
                items.push(...(body.items || []));
                const meta = body.metadata || {};
                cont = meta.continue || "";
                if (!cont)
                    return { items, resourceVersion: meta.resourceVersion || "" };
            }
        } catch (e) {
            if (e.status !== 410 || attempt >= 2)
                throw e;
        }
    }
}

function objectKey(o) {
    return `${o.metadata.namespace || ""}/${o.metadata.name}`;
}

// A collection kept current, as Kubernetes clients do: list it, then watch
// from the list's resourceVersion. A watch the master ends is resumed from
// the last resourceVersion seen; one whose resourceVersion is too old (an
// ERROR event with a 410 Status: compacted away) lists again, reports what
// changed meanwhile (ADDED/MODIFIED/DELETED) and watches from there.
// onEvent(type, object) first gets ADDED for every item; onEnd(problem,
// error) when it cannot go on. Returns the function that stops it.
function watchList(path, onEvent, onEnd) {
    const known = new Map();
    let stopped = false;
    let cancel = null;
    let rv = "";
    const fail = (problem, error) => {
        if (!stopped && onEnd)
            onEnd(problem, error);
    };
    const start = () => {
        const started = Date.now();
        let failure = null;
        let stop = null;
        stop = cancel = watch("master", withQuery(path, `watch=true&resourceVersion=${enc(rv)}`), ev => {
            if (failure)
                return;
            if (ev.type === "ERROR") {
                if (ev.object && ev.object.code === 410) {
                    stop();
                    sync();
                } else {
                    failure = Object.assign(new Error((ev.object && ev.object.message) || "watch error"),
                                            { status: ev.object && ev.object.code });
                }
                return;
            }
            const o = ev.object;
            if (!o || !o.metadata)
                return;
            rv = o.metadata.resourceVersion || rv;
            if (ev.type === "DELETED")
                known.delete(objectKey(o));
            else
                known.set(objectKey(o), o);
            onEvent(ev.type, o);
        }, (problem, error) => {
            if (stopped)
                return;
            if (problem || failure)
                fail(problem || "http-error", error || failure);
            else    // the master ended the watch (timeout): go on where it was
                setTimeout(start, Date.now() - started < 1000 ? 1000 : 0);
        });
    };
    const sync = () => {
        listAll(path).then(({ items, resourceVersion }) => {
            if (stopped)
                return;
            const seen = new Set();
            for (const o of items) {
                const k = objectKey(o);
                seen.add(k);
                const old = known.get(k);
                known.set(k, o);
                if (!old || old.metadata.resourceVersion !== o.metadata.resourceVersion)
                    onEvent(old ? "MODIFIED" : "ADDED", o);
            }
            for (const [k, o] of [...known]) {
                if (!seen.has(k)) {
                    known.delete(k);
                    onEvent("DELETED", o);
                }
            }
            rv = resourceVersion;
            start();
        }, e => fail(e.problem || "http-error", e));
    };
    sync();
    return () => {
        stopped = true;
        if (cancel)
            cancel();
    };
}

export class OpenShiftBackend {
    constructor(session) {
        this.kind = "master";
        this.session = session;
        this.hasMembers = true;
        this.reviews = new Map();
    }

    // May the user do this (a SelfSubjectAccessReview's resourceAttributes:
    // verb, group, resource, subresource, namespace, name)? true or false;
    // null when the master cannot say (no such API): then the action is
    // offered and the master's own answer shown.
    canI(attributes) {
        const attrs = {};
        for (const k of ["namespace", "verb", "group", "resource", "subresource", "name"])
            if (attributes[k])
                attrs[k] = attributes[k];
        return cached(this.reviews, JSON.stringify(attrs), async () => {
            const { body } = await json("master", "POST", SSAR, {
                kind: "SelfSubjectAccessReview", apiVersion: "authorization.k8s.io/v1",
                spec: { resourceAttributes: attrs },
            });
            return (body.status || {}).allowed === true;
        }).catch(() => null);
    }

    // What the user may do in a project (see NOTHING_KNOWN).
    async permissions(project) {
        const ask = (verb, group, resource, subresource, name) =>
            this.canI({ namespace: project, verb, group, resource, subresource, name });
        const IMG = "image.openshift.io";
        const answers = await Promise.all([
            ask("get", IMG, "imagestreams", "layers"),
            ask("update", IMG, "imagestreams", "layers"),
            ask("delete", IMG, "imagestreamtags"),
            ask("create", IMG, "imagestreams"),
            ask("update", IMG, "imagestreams"),
            ask("delete", IMG, "imagestreams"),
            ask("create", "rbac.authorization.k8s.io", "rolebindings"),
            ask("delete", "project.openshift.io", "projects", null, project),
        ]);
        const [pull, push, deleteImage, createStream, editStream, deleteStream, editMembers, deleteProject] =
            answers.map(a => a !== false);
        // null: the master could not say (an error, or no such API)
        const unchecked = answers.includes(null);
        return { known: !unchecked, unchecked, pull, push, deleteImage, createStream, editStream, deleteStream,
                 editMembers, deleteProject };
    }

    // What the user may do cluster-wide.
    async clusterPermissions() {
        const ask = (verb, group, resource) => this.canI({ verb, group, resource });
        const answers = await Promise.all([
            ask("create", "project.openshift.io", "projectrequests"),
            ask("list", "user.openshift.io", "users"),
            ask("list", "user.openshift.io", "groups"),
            ask("create", "user.openshift.io", "groups"),
            ask("update", "user.openshift.io", "groups"),
            ask("delete", "user.openshift.io", "groups"),
            ask("list", "image.openshift.io", "images"),
        ]);
        const [, listUsers, listGroups, createGroup, editGroups, deleteGroup, listImages] =
            answers.map(a => a === true);
        return { createProject: answers[0] !== false, listUsers, listGroups, createGroup, editGroups, deleteGroup,
                 listImages };
    }

    // The projects (names) in which the user may create image streams.
    async streamProjects(names) {
        const answers = await Promise.all(names.map(ns => this.canI({ namespace: ns, verb: "create",
                                                                      group: "image.openshift.io",
                                                                      resource: "imagestreams" })));
        return names.filter((ns, i) => answers[i] !== false);
    }

    // Forget what the user may do (after a change of roles or groups).
    forgetPermissions() {
        this.reviews.clear();
    }

    /* -- users and groups (user.openshift.io) */

    static userFromObject(u) {
        return {
            name: u.metadata.name,
            fullName: u.fullName || "",
            identities: u.identities || [],
            created: u.metadata.creationTimestamp || "",
        };
    }

    async users() {
        const { items } = await listAll(`${USERS}/users`);
        return items.map(OpenShiftBackend.userFromObject).sort((a, b) => a.name.localeCompare(b.name));
    }

    async user(name) {
        const { body } = await json("master", "GET", `${USERS}/users/${enc(name)}`);
        return OpenShiftBackend.userFromObject(body);
    }

    // An identity ("provider:name"): where the user logs in.
    async identity(name) {
        const { body } = await json("master", "GET", `${USERS}/identities/${enc(name)}`);
        return { name: body.metadata.name, provider: body.providerName, providerUserName: body.providerUserName,
                 user: (body.user || {}).name || "", extra: body.extra || {} };
    }

    static groupFromObject(g) {
        return { name: g.metadata.name, users: (g.users || []).slice().sort(), created: g.metadata.creationTimestamp || "",
                 raw: g };
    }

    async groups() {
        const { items } = await listAll(`${USERS}/groups`);
        return items.map(OpenShiftBackend.groupFromObject).sort((a, b) => a.name.localeCompare(b.name));
    }

    async group(name) {
        const { body } = await json("master", "GET", `${USERS}/groups/${enc(name)}`);
        return OpenShiftBackend.groupFromObject(body);
    }

    createGroup(name) {
        return json("master", "POST", `${USERS}/groups`, {
            kind: "Group", apiVersion: "user.openshift.io/v1", metadata: { name }, users: [],
        }).then(r => { this.forgetPermissions(); return r; });
    }

    deleteGroup(name) {
        return json("master", "DELETE", `${USERS}/groups/${enc(name)}`)
            .then(r => { this.forgetPermissions(); return r; });
    }

    // Change a group's members: read it, change, write it back with its
    // resourceVersion; a change made meanwhile (409 Conflict) is read again.
    async changeGroupUsers(name, change) {
        for (let attempt = 0; ; attempt++) {
            const { body } = await json("master", "GET", `${USERS}/groups/${enc(name)}`);
            const users = change(body.users || []);
            try {
                await json("master", "PUT", `${USERS}/groups/${enc(name)}`, { ...body, users });
                this.forgetPermissions();
                return;
            } catch (e) {
                if (e.status !== 409 || attempt >= 2)
                    throw e;
            }
        }
    }

    addGroupMember(name, user) {
        return this.changeGroupUsers(name, users => (users.includes(user) ? users : [...users, user]));
    }

    removeGroupMember(name, user) {
        return this.changeGroupUsers(name, users => users.filter(u => u !== user));
    }

    /* -- images no tag refers to */

    // What `oc adm prune images` would remove: the images of the master
    // that no tag of any image stream refers to (now or in its history),
    // and no referred index contains. Each with its size; freed: the bytes
    // of the layers only these images use (shared layers counted once).
    async untaggedImages() {
        const [{ items }, streams] = await Promise.all([listAll(`${IS}/images`), this.streams()]);
        const referenced = new Set();
        for (const s of streams)
            for (const t of (s.raw.status && s.raw.status.tags) || [])
                for (const item of t.items || [])
                    referenced.add(item.image);
        const byDigest = new Map(items.map(i => [i.metadata.name, i]));
        for (const d of [...referenced])
            for (const p of ((byDigest.get(d) || {}).dockerImageManifests || []))
                referenced.add(p.digest);
        const used = new Set();
        for (const i of items)
            if (referenced.has(i.metadata.name))
                for (const l of i.dockerImageLayers || [])
                    used.add(l.name);
        const untagged = items.filter(i => !referenced.has(i.metadata.name)).map(i => {
            const m = i.dockerImageMetadata || {};
            return {
                digest: i.metadata.name,
                reference: i.dockerImageReference || "",
                created: m.Created || i.metadata.creationTimestamp || "",
                size: byteSize(m.Size) || 0,
                mediaType: i.dockerImageManifestMediaType || "",
                platforms: (i.dockerImageManifests || []).length,
                layers: (i.dockerImageLayers || []).map(l => ({ digest: l.name, size: byteSize(l.size) || 0 })),
            };
        }).sort((a, b) => b.size - a.size || a.digest.localeCompare(b.digest));
        const freedLayers = new Map();
        for (const i of untagged)
            for (const l of i.layers)
                if (!used.has(l.digest))
                    freedLayers.set(l.digest, l.size || 0);
        const freed = [...freedLayers.values()].reduce((a, n) => a + n, 0);
        return { images: untagged, freed, total: items.length };
    }

    async projects() {
        const { items } = await listAll(`${PROJ}/projects`);
        return items.map(p => ({
            name: p.metadata.name,
            displayName: (p.metadata.annotations || {})["openshift.io/display-name"] || "",
            description: (p.metadata.annotations || {})["openshift.io/description"] || "",
            created: p.metadata.creationTimestamp,
        })).sort((a, b) => a.name.localeCompare(b.name));
    }

    createProject(name, displayName, description) {
        const body = { kind: "ProjectRequest", apiVersion: "project.openshift.io/v1",
                       metadata: { name } };
        if (displayName)
            body.displayName = displayName;
        if (description)
            body.description = description;
        return json("master", "POST", `${PROJ}/projectrequests`, body).then(r => { this.forgetPermissions(); return r; });
    }

    deleteProject(name) {
        return json("master", "DELETE", `${PROJ}/projects/${enc(name)}`);
    }

    static streamFromObject(o) {
        const specTags = {};
        for (const t of (o.spec && o.spec.tags) || [])
            specTags[t.name] = t;
        const tags = ((o.status && o.status.tags) || []).map(t => {
            const item = (t.items || [])[0] || {};
            // an import that failed (a spec tag from another registry)
            const failed = (t.conditions || []).find(c => c.type === "ImportSuccess" && c.status === "False");
            return { name: t.tag, digest: item.image || "", created: item.created || "",
                     reference: item.dockerImageReference || "", spec: specTags[t.tag] || null,
                     error: failed ? format(_("Import failed: {message}"), { message: failed.message || failed.reason || "" }) : "" };
        });
        for (const name of Object.keys(specTags)) {
            if (!tags.find(t => t.name === name))
                tags.push({ name, digest: "", created: "", reference: "", spec: specTags[name] });
        }
        tags.sort((a, b) => a.name.localeCompare(b.name));
        return {
            project: o.metadata.namespace,
            name: o.metadata.name,
            created: o.metadata.creationTimestamp,
            uid: o.metadata.uid,
            tags,
            dockerImageRepository: (o.spec && o.spec.dockerImageRepository) || "",
            publicRepository: (o.status && (o.status.publicDockerImageRepository || o.status.dockerImageRepository)) || "",
            raw: o,
        };
    }

    async streams(project) {
        const path = project ? `${IS}/namespaces/${enc(project)}/imagestreams` : `${IS}/imagestreams`;
        try {
            const { items } = await listAll(path);
            return items.map(OpenShiftBackend.streamFromObject);
        } catch (e) {
            if (project || e.status !== 403)
                throw e;
            // not allowed cluster-wide: collect project by project
            const all = [];
            for (const p of await this.projects())
                all.push(...await this.streams(p.name).catch(() => []));
            return all;
        }
    }

    async stream(project, name) {
        const { body } = await json("master", "GET", `${IS}/namespaces/${enc(project)}/imagestreams/${enc(name)}`);
        return OpenShiftBackend.streamFromObject(body);
    }

    watchStreams(project, onEvent, onEnd) {
        const path = project ? `${IS}/namespaces/${enc(project)}/imagestreams` : `${IS}/imagestreams`;
        const stops = [];
        let stopped = false;
        stops.push(watchList(path, (type, o) => onEvent(type, OpenShiftBackend.streamFromObject(o)), (problem, error) => {
            if (project || !error || error.status !== 403) {
                if (onEnd)
                    onEnd(problem, error);
                return;
            }
            // not allowed cluster-wide: watch project by project
            this.projects().then(projects => {
                for (const p of projects)
                    if (!stopped)
                        stops.push(this.watchStreams(p.name, onEvent, onEnd));
            }, e => onEnd && onEnd(e.problem || "http-error", e));
        }));
        return () => {
            stopped = true;
            for (const stop of stops)
                stop();
        };
    }

    watchProjects(onEvent, onEnd) {
        return watchList(`${PROJ}/projects`, onEvent, onEnd);
    }

    createStream(project, name) {
        return json("master", "POST", `${IS}/namespaces/${enc(project)}/imagestreams`, {
            kind: "ImageStream", apiVersion: "image.openshift.io/v1",
            metadata: { name, namespace: project },
        });
    }

    deleteStream(project, name) {
        return json("master", "DELETE", `${IS}/namespaces/${enc(project)}/imagestreams/${enc(name)}`);
    }

    // Import an image into a tag (as "oc import-image"): the master answers
    // at once whether it could read the image, so a failure is shown in the
    // dialog rather than as a tag that never gets an image.
    async addTag(project, stream, tag, from) {
        const { body } = await json("master", "POST", `${IS}/namespaces/${enc(project)}/imagestreamimports`, {
            kind: "ImageStreamImport", apiVersion: "image.openshift.io/v1",
            metadata: { name: stream, namespace: project },
            spec: { import: true, images: [{ from: { kind: "DockerImage", name: from }, to: { name: tag } }] },
            status: {},
        });
        const result = ((body.status && body.status.images) || [])[0];
        const st = (result && result.status) || {};
        if (st.status !== "Success")
            throw new Error(format(_("Importing {image} failed: {message}"), { image: from, message: st.message || st.reason || "" }));
        return body;
    }

    removeTag(project, stream, tag) {
        return json("master", "DELETE", `${IS}/namespaces/${enc(project)}/imagestreamtags/${enc(stream + ":" + tag)}`);
    }

    // mode: "none" | "all" (spec.dockerImageRepository) | "tags" (named tags)
    async setSync(project, name, mode, remote, tagNames) {
        const s = await this.stream(project, name);
        const spec = JSON.parse(JSON.stringify(s.raw.spec || {}));
        spec.dockerImageRepository = mode === "all" ? remote : "";
        spec.tags = (spec.tags || []).filter(t => !(t.from && t.from.kind === "DockerImage" && t.importPolicy && t.importPolicy.scheduled));
        if (mode === "tags") {
            for (const tag of tagNames) {
                spec.tags = spec.tags.filter(t => t.name !== tag);
                spec.tags.push({ name: tag, from: { kind: "DockerImage", name: `${remote}:${tag}` },
                                 importPolicy: { scheduled: true } });
            }
        }
        const obj = { ...s.raw, spec };
        return json("master", "PUT", `${IS}/namespaces/${enc(project)}/imagestreams/${enc(name)}`, obj);
    }

    // Sizes of the tags' images (the stream object has none), filled in place.
    async tagSizes(stream) {
        await Promise.all(stream.tags.filter(t => t.digest && t.size === undefined).map(async t => {
            try {
                const { body } = await json("master", "GET", `${IS}/images/${enc(t.digest)}`);
                t.size = byteSize((body.dockerImageMetadata || {}).Size);
            } catch (e) {
                t.size = null;
            }
        }));
    }

    // An image stream's tags with created, size, platforms from the Image
    // objects, streamed by the server ("openshift-images"; see channel.js
    // rows() for HANDLERS and what comes back).
    tagRows(project, name, handlers) {
        return rows("openshift-images", { namespace: project, name }, handlers);
    }

    // The blobs (config and layers: [[digest, size], …]) of an image, from
    // its Image object, with its platforms' for a manifest list (one level:
    // a platform's own platforms are not followed; the first PLATFORMS_MAX);
    // kept by digest (an image never changes). The config's size is what
    // the metadata's Size has beyond the layers. At most IMAGE_READS Image
    // objects are read at once, however many callers ask.
    async imageBlobs(digest) {
        const own = await this.imageOwnBlobs(digest);
        const platforms = own.platforms.filter(p => p !== digest).slice(0, PLATFORMS_MAX);
        const out = own.blobs.slice();
        for (const blobs of await Promise.all(platforms.map(p => this.imageOwnBlobs(p).then(o => o.blobs, () => []))))
            out.push(...blobs);
        return out;
    }

    // An Image object's own blobs and the digests of its platforms:
    // {blobs, platforms}; kept by digest, a failure not.
    imageOwnBlobs(digest) {
        if (!this.blobSizes)
            this.blobSizes = new Map();
        if (!this.imageGate)
            this.imageGate = limiter(IMAGE_READS);
        let hit = this.blobSizes.get(digest);
        if (!hit) {
            hit = this.imageGate(() => this.imageObject(digest)).then(body => {
                const m = body.dockerImageMetadata || {};
                const manifests = Array.isArray(body.dockerImageManifests) ? body.dockerImageManifests : [];
                const blobs = (Array.isArray(body.dockerImageLayers) ? body.dockerImageLayers : [])
                    .filter(l => l && typeof l.name === "string" && l.name)
                    .map(l => [l.name, byteSize(l.size) || 0]);
                const layers = blobs.reduce((a, [, n]) => a + n, 0);
                if (typeof m.Id === "string" && m.Id && m.Id !== (body.metadata || {}).name && !manifests.length)
                    blobs.push([m.Id, Math.max(0, (byteSize(m.Size) || 0) - layers)]);
                const platforms = manifests.map(p => p && p.digest).filter(d => typeof d === "string" && d);
                return { blobs, platforms };
            });
            hit.catch(() => this.blobSizes.delete(digest));
            this.blobSizes.set(digest, hit);
        }
        return hit;
    }

    // An Image object (the master's answer's body).
    async imageObject(digest) {
        return (await json("master", "GET", `${IS}/images/${enc(digest)}`)).body;
    }

    async image(project, stream, tagOrDigest) {
        let digest = tagOrDigest;
        if (!digest.startsWith("sha256:")) {
            const s = await this.stream(project, stream);
            const t = s.tags.find(x => x.name === tagOrDigest);
            if (!t || !t.digest)
                throw Object.assign(new Error(`tag ${tagOrDigest} has no image`), { status: 404 });
            digest = t.digest;
        }
        const { body } = await json("master", "GET", `${IS}/images/${enc(digest)}`);
        const m = body.dockerImageMetadata || {};
        let cfg = imageConfig(body);
        if (!cfg && m.Id && !(body.dockerImageManifests || []).length) {
            // no config in the image object: read its blob from the
            // registry, when the console has one (else no history)
            const repo = `${project}/${stream}`.split("/").map(enc).join("/");
            cfg = await json("registry", "GET", `/v2/${repo}/blobs/${enc(m.Id)}`).then(r => r.body, () => null);
        }
        return {
            digest: body.metadata.name,
            mediaType: body.dockerImageManifestMediaType || "",
            created: m.Created || body.metadata.creationTimestamp,
            author: m.Author || "",
            architecture: m.Architecture || "",
            os: (cfg && cfg.os) || "",
            dockerVersion: m.DockerVersion || "",
            size: byteSize(m.Size),
            config: normalizeConfig(m.Config || m.ContainerConfig),
            layers: imageLayers(body),
            history: configHistory(cfg),
            annotations: body.metadata.annotations || {},
            platforms: (body.dockerImageManifests || []).map(p => ({
                digest: p.digest, os: p.os, architecture: p.architecture, variant: p.variant || "",
            })),
            reference: body.dockerImageReference || "",
        };
    }

    async rolebindings(project) {
        return (await listAll(`${RBAC}/namespaces/${enc(project)}/rolebindings`)).items;
    }

    async members(project) {
        const out = [];
        for (const rb of await this.rolebindings(project)) {
            const role = rb.roleRef && rb.roleRef.name;
            for (const s of rb.subjects || []) {
                if (s.kind === "User" || (s.kind === "Group" && !s.name.startsWith("system:")))
                    out.push({ name: s.name, kind: s.kind, role, binding: rb.metadata.name });
            }
        }
        return out.sort((a, b) => a.name.localeCompare(b.name) || a.role.localeCompare(b.role));
    }

    addMember(project, user, role) {
        this.forgetPermissions();
        const name = `${role}-${user}`.toLowerCase().replace(/[^a-z0-9.-]/g, "-").substring(0, 63);
        return json("master", "POST", `${RBAC}/namespaces/${enc(project)}/rolebindings`, {
            kind: "RoleBinding", apiVersion: "rbac.authorization.k8s.io/v1",
            metadata: { name, namespace: project },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
            subjects: [{ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: user }],
        });
    }

    async removeMember(project, member) {
        this.forgetPermissions();
        const { body } = await json("master", "GET", `${RBAC}/namespaces/${enc(project)}/rolebindings/${enc(member.binding)}`);
        const subjects = (body.subjects || []).filter(s => !(s.kind === member.kind && s.name === member.name));
        if (subjects.length === 0)
            return json("master", "DELETE", `${RBAC}/namespaces/${enc(project)}/rolebindings/${enc(member.binding)}`);
        return json("master", "PUT", `${RBAC}/namespaces/${enc(project)}/rolebindings/${enc(member.binding)}`,
                    { ...body, subjects });
    }

    // "private" | "shared" (system:authenticated may pull) | "anonymous" (system:unauthenticated too)
    async policy(project) {
        let shared = false, anonymous = false;
        for (const rb of await this.rolebindings(project)) {
            if (!rb.roleRef || !["registry-viewer", "system:image-puller"].includes(rb.roleRef.name))
                continue;
            for (const s of rb.subjects || []) {
                if (s.kind === "Group" && s.name === "system:authenticated")
                    shared = true;
                if (s.kind === "Group" && s.name === "system:unauthenticated")
                    anonymous = true;
            }
        }
        return anonymous ? "anonymous" : shared ? "shared" : "private";
    }

    async setPolicy(project, policy) {
        this.forgetPermissions();
        const base = `${RBAC}/namespaces/${enc(project)}/rolebindings`;
        for (const name of ["registry-viewer-shared", "registry-viewer-anonymous"])
            await json("master", "DELETE", `${base}/${name}`).catch(e => { if (e.status !== 404) throw e; });
        const groups = policy === "anonymous" ? ["system:authenticated", "system:unauthenticated"]
                     : policy === "shared" ? ["system:authenticated"] : [];
        if (groups.length) {
            await json("master", "POST", base, {
                kind: "RoleBinding", apiVersion: "rbac.authorization.k8s.io/v1",
                metadata: { name: `registry-viewer-${policy}`, namespace: project },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "registry-viewer" },
                subjects: groups.map(g => ({ kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: g })),
            });
        }
    }
}

/* ------------------------------------------------------------- registry */

// Layers stored as plain tar: their size is their unpacked size.
const UNCOMPRESSED_LAYERS = ["application/vnd.oci.image.layer.v1.tar",
                             "application/vnd.docker.image.rootfs.diff.tar"];

// An image manifest's sizes: {size: config + layers as stored (compressed),
// configSize, uncompressed: the layers unpacked, or null when the manifest
// does not say (compressed layers record only their compressed size)}.
export function imageSizes(body) {
    const layers = Array.isArray(body.layers) ? body.layers.filter(l => l && typeof l === "object") : [];
    const configSize = byteSize(body.config && body.config.size) || 0;
    const size = layers.reduce((a, l) => a + (byteSize(l.size) || 0), configSize);
    const plain = layers.length > 0 && layers.every(l => UNCOMPRESSED_LAYERS.includes(l.mediaType));
    return { size, configSize, uncompressed: plain ? size - configSize : null };
}

export class RegistryBackend {
    constructor(session) {
        this.kind = "registry";
        this.session = session;
        this.hasMembers = false;
        this.digests = new Map();
        this.grants = new Map();
    }

    // What the registry's token service grants in a repository (the
    // server's registry-access channel): {known, pull, push, delete};
    // known false without token auth, and unchecked true as well when the
    // question failed (then everything is offered, and the page says why).
    access(repository) {
        return cached(this.grants, repository, () => this.askAccess(repository))
            .catch(() => ({ known: false, unchecked: true }));
    }

    async askAccess(repository) {
        return JSON.parse(await query("registry-access", { repository }));
    }

    // What the user may do in a namespace (PROJECT), asked for one of its
    // repositories (STREAM, or the first of the namespace): see
    // NOTHING_KNOWN. A registry has no image streams or members to manage.
    async permissions(project, stream) {
        let repo = stream ? (project ? `${project}/${stream}` : stream) : null;
        if (!repo)
            repo = ((await this.streams(project).catch(() => []))[0] || {}).repository || null;
        const a = repo ? await this.access(repo) : { known: false };
        const none = { createStream: false, editStream: false, deleteStream: false, editMembers: false, deleteProject: false };
        if (!a.known)
            return { ...none, known: false, unchecked: !!a.unchecked, pull: true, push: true, deleteImage: true };
        return { ...none, known: true, unchecked: false, pull: !!a.pull, push: !!a.push, deleteImage: !!a.delete };
    }

    async clusterPermissions() {
        return { createProject: false, listUsers: false, listGroups: false, createGroup: false, editGroups: false,
                 deleteGroup: false, listImages: false };
    }

    async streamProjects() {
        return [];
    }

    forgetPermissions() {
        this.grants.clear();
    }

    // Every repository name, from the catalog the server keeps (one
    // registry-catalog channel: the user's own access check, then the kept
    // list, or the server's one walk followed), never a walk of our own.
    // Kept 5 s, so a view that asks twice (projects and streams) reads it
    // once.
    repositories() {
        if (this.catalogMemo && Date.now() - this.catalogMemo.at < 5000)
            return this.catalogMemo.value;
        const names = [];
        const value = this.catalogRows({ row: r => {
            if (r.type === "names" && Array.isArray(r.names))
                for (const n of r.names)
                    names.push(n);
        } }).done.then(() => names);
        this.catalogMemo = { at: Date.now(), value };
        value.catch(() => { this.catalogMemo = null; });
        return value;
    }

    // Read the catalog again next time (after a repository was deleted).
    forgetCatalog() {
        this.catalogMemo = null;
    }

    static split(repo) {
        const i = repo.lastIndexOf("/");
        return i < 0 ? ["", repo] : [repo.substring(0, i), repo.substring(i + 1)];
    }

    async projects() {
        const names = new Set((await this.repositories()).map(r => RegistryBackend.split(r)[0]));
        return [...names].sort().map(name => ({ name, displayName: "", description: "", created: "" }));
    }

    async streams(project) {
        let repos = await this.repositories();
        if (project !== undefined && project !== null)
            repos = repos.filter(r => RegistryBackend.split(r)[0] === project);
        return repos.map(r => {
            const [ns, name] = RegistryBackend.split(r);
            return { project: ns, name, created: "", tags: null, repository: r };
        });
    }

    async manifest(repo, ref) {
        const r = await http("registry", "GET", `/v2/${repoPath(repo)}/manifests/${enc(ref)}`,
                             { headers: { Accept: MANIFEST_ACCEPT } });
        if (r.status !== 200) {
            let message = `${r.status} ${r.reason || ""}`;
            try {
                const e = JSON.parse(r.body).errors[0];
                message = e.message || e.code;
            } catch (e) { /* keep status */ }
            throw Object.assign(new Error(message), { status: r.status });
        }
        let body;
        try {
            body = JSON.parse(r.body);
        } catch (e) {
            throw new Error(`malformed manifest for ${repo}:${ref}`);
        }
        const mediaType = body.mediaType || (r.headers["content-type"] || "").split(";")[0];
        return { body, mediaType, digest: r.headers["docker-content-digest"] || "" };
    }

    async stream(project, name) {
        const repo = project ? `${project}/${name}` : name;
        const { body } = await json("registry", "GET", `/v2/${repoPath(repo)}/tags/list`);
        const tags = await Promise.all((body.tags || []).sort().map(async tag => {
            try {
                const m = await this.manifest(repo, tag);
                let created = "";
                let size = null;
                if (!INDEX_TYPES.includes(m.mediaType) && m.body.config) {
                    size = imageSizes(m.body).size;
                    const cfg = await json("registry", "GET", `/v2/${repoPath(repo)}/blobs/${enc(m.body.config.digest)}`).catch(() => null);
                    if (cfg && cfg.body)
                        created = cfg.body.created || "";
                }
                return { name: tag, digest: m.digest, created, size, mediaType: m.mediaType, multiarch: INDEX_TYPES.includes(m.mediaType) };
            } catch (e) {
                return { name: tag, digest: "", created: "", size: null, error: e.message };
            }
        }));
        return { project, name, repository: repo, created: "", tags };
    }

    // A repository's tags: names first, then a row per tag with digest,
    // created, size, platforms and its blobs with their sizes, streamed by
    // the server ("registry-tags"; see channel.js rows() for HANDLERS and
    // what comes back). fresh: ask the registry for every tag again.
    tagRows(project, name, handlers, { fresh = false } = {}) {
        const repository = project ? `${project}/${name}` : name;
        return rows("registry-tags", { repository, blobs: true, fresh }, handlers);
    }

    async image(project, stream, ref) {
        const repo = project ? `${project}/${stream}` : stream;
        const m = await this.manifest(repo, ref);
        const image = { digest: m.digest, mediaType: m.mediaType, platforms: [], layers: [], history: null,
                        annotations: m.body.annotations || {}, config: normalizeConfig({}),
                        created: "", author: "", architecture: "", os: "", dockerVersion: "", size: null };
        let manifest = m;
        if (INDEX_TYPES.includes(m.mediaType)) {
            image.platforms = (m.body.manifests || []).map(p => ({
                digest: p.digest, os: (p.platform || {}).os || "", architecture: (p.platform || {}).architecture || "",
                variant: (p.platform || {}).variant || "", size: byteSize(p.size),
            }));
            // each platform's size, and the index's: every distinct blob once
            const blobs = new Map();
            await Promise.all(image.platforms.slice(0, 64).map(async p => {
                const pm = await this.manifest(repo, p.digest).catch(() => null);
                if (!pm || !pm.body.config)
                    return;
                const sizes = imageSizes(pm.body);
                p.imageSize = sizes.size;
                p.uncompressed = sizes.uncompressed;
                for (const l of [pm.body.config, ...(pm.body.layers || [])])
                    blobs.set(l.digest, byteSize(l.size) || 0);
            }));
            image.size = blobs.size ? [...blobs.values()].reduce((a, n) => a + n, 0) : null;
            const first = image.platforms.find(p => p.architecture === "amd64") || image.platforms[0];
            if (!first)
                return image;
            manifest = await this.manifest(repo, first.digest);
        }
        const b = manifest.body;
        image.layers = (b.layers || []).map(l => ({ digest: l.digest, size: byteSize(l.size) || 0, mediaType: l.mediaType }));
        if (!image.platforms.length)
            Object.assign(image, imageSizes(b));
        if (b.config && b.config.digest) {
            const { body: cfg } = await json("registry", "GET", `/v2/${repoPath(repo)}/blobs/${enc(b.config.digest)}`);
            image.created = cfg.created || "";
            image.author = cfg.author || "";
            image.architecture = cfg.architecture || "";
            image.os = cfg.os || "";
            image.dockerVersion = cfg.docker_version || "";
            image.config = normalizeConfig(cfg.config);
            image.history = configHistory(cfg);
        }
        return image;
    }

    async deleteManifest(project, stream, digest) {
        const repo = project ? `${project}/${stream}` : stream;
        // by digest only: a tag (or anything else) here is a bug or hostile
        if (!isDigest(digest))
            throw new Error(format(_("Not deleted: {digest} is not a digest."), { digest: String(digest) }));
        const r = await http("registry", "DELETE", `/v2/${repoPath(repo)}/manifests/${enc(digest)}`);
        if (r.status !== 202 && r.status !== 200) {
            let message = `${r.status} ${r.reason || ""}`.trim();
            try {
                message = JSON.parse(r.body).errors[0].message || message;
            } catch (e) { /* keep */ }
            // say what the registry means and what to do about it
            message = message.replace(/\.$/, "");
            if (r.status === 405)
                message = format(_("This registry does not allow deleting images (HTTP 405: {message}). To allow it, set storage.delete.enabled: true in the registry's configuration, or REGISTRY_STORAGE_DELETE_ENABLED=true in its environment, and restart it."), { message });
            else if (r.status === 401 || r.status === 403)
                message = format(_("The registry does not let you delete images in {repository} (HTTP {status}: {message})."), { repository: repo, status: r.status, message });
            throw Object.assign(new Error(message), { status: r.status });
        }
    }

    /* -- the registry channels (doc/architecture.md, "Registry channels"):
     * streams of rows, see channel.js rows(). The registry has no watch:
     * the repository list polls the summaries of the rows on screen. */

    // The kept catalog: {"type":"names","names":[…]} rows; progress
    // {names, matched, walking, pages}; done {complete, truncated, age,
    // total, matched}. options: {contains, fresh}.
    catalogRows(handlers, options = {}) {
        return rows("registry-catalog", options, handlers);
    }

    // One {"type":"repository"} row per repository (at most 500): tags,
    // newest, created, size (every distinct blob once), fingerprint,
    // partial, error. One a session: a newer one ends the older.
    summaryRows(repositories, handlers, options = {}) {
        return rows("registry-summary", { ...options, repositories }, handlers);
    }

    // A tag name or a digest (or its prefix) across every repository the
    // user can read: "tag" rows with "repository" and "match". options:
    // {kind, exact, repositories}. One a session.
    searchRows(query, handlers, options = {}) {
        return rows("registry-search", { ...options, query }, handlers);
    }

    // A repository's tags with the digests of the blobs each uses
    // (registry-tags with "blobs"): what storage sharing is computed from.
    blobRows(repository, handlers) {
        return rows("registry-tags", { repository, blobs: true }, handlers);
    }

    // The blobs (config and layers: [[digest, size], …]) of an image
    // manifest, read in REPOSITORY; kept by digest (content never changes).
    imageBlobs(repository, digest) {
        if (!this.blobSizes)
            this.blobSizes = new Map();
        let hit = this.blobSizes.get(digest);
        if (!hit) {
            hit = this.manifest(repository, digest).then(m => {
                const b = m.body || {};
                const out = [];
                if (b.config && b.config.digest)
                    out.push([b.config.digest, byteSize(b.config.size) || 0]);
                for (const l of b.layers || [])
                    if (l && l.digest)
                        out.push([l.digest, byteSize(l.size) || 0]);
                return out;
            });
            hit.catch(() => this.blobSizes.delete(digest));
            this.blobSizes.set(digest, hit);
        }
        return hit;
    }
}
