// summaries.js: the per-repository summaries a list needs (tag count,
// newest tag, size, fingerprint), asked for in batches over ONE channel at
// a time, as the server wants it (registry-summary: one a session, 500
// names at most; doc/architecture.md, "Registry channels"):
//
//   1. the rows on screen that have no summary yet, at once (a scroll or a
//      new filter ends a batch of anything else: what it brought is kept);
//   2. then, when the list is sorted by a column, the rest of the list in
//      that order, BACKGROUND_BATCH names a channel;
//   3. then, to see changes, the rows on screen again (their fingerprint),
//      after POLL_MIN seconds, backing off to POLL_MAX while nothing changes.
//
// A failed channel is tried again after a back-off (another page of the
// same session that opens a summary ends ours: "terminated").
// open(names, handlers) starts a channel: it returns {done, close} as
// channel.js rows() does and calls handlers.row for each summary row.
// Imports nothing; touches nothing at import time.

export const BACKGROUND_BATCH = 200;
export const VISIBLE_MAX = 500;
export const POLL_MIN = 5000;
export const POLL_MAX = 120000;
const RETRY_MIN = 2000;
const RETRY_MAX = 60000;

export class SummaryQueue {
    // onRow(row): a summary arrived (row.repository); onState(): what the
    // queue does changed (see state()). options.poll: false for a backend
    // with watches of its own.
    constructor(open, onRow, onState, { poll = true } = {}) {
        this.open = open;
        this.onRow = onRow;
        this.onState = onState || (() => null);
        this.poll = poll;
        this.rows = new Map();          // repository → {row, at}
        this.visible = [];
        this.background = [];
        this.backgroundAt = 0;          // where to go on in this.background
        this.current = null;            // {kind, names, stream, got}
        this.timer = null;
        this.interval = POLL_MIN;
        this.retry = RETRY_MIN;
        this.retryAt = 0;
        this.error = null;
        this.stopped = false;
        this.held = false;              // no polls (the registry is busy)
        this.channels = 0;              // opened so far (for tests and progress)
    }

    // Hold the polls (not the rows still unknown) while HOLD, e.g. while
    // the registry's catalog is walked: it has enough to do.
    holdPolls(hold) {
        if (this.held === hold)
            return;
        this.held = hold;
        if (!hold)
            this.pump();
    }

    // The summary row of REPOSITORY, or undefined.
    get(repository) {
        const hit = this.rows.get(repository);
        return hit ? hit.row : undefined;
    }

    // {kind: "visible"|"background"|"poll"|null, known, error, interval}
    state() {
        return { kind: this.current ? this.current.kind : null, known: this.rows.size, error: this.error,
                 interval: this.interval, channels: this.channels };
    }

    // The repositories on screen, in order.
    setVisible(names) {
        this.visible = names.slice(0, VISIBLE_MAX);
        const missing = this.visible.some(n => !this.rows.has(n));
        const c = this.current;
        if (missing && c && (c.kind !== "visible" || this.visible.some(n => !this.rows.has(n) && !c.set.has(n))))
            this.cancel();
        this.pump();
    }

    // The whole list in the order shown, to fill while idle (null: nothing
    // to fill, e.g. sorted by name).
    setBackground(names) {
        this.background = names || [];
        this.backgroundAt = 0;
        this.pump();
    }

    // Forget the summary of REPOSITORY (it changed): it is asked for again.
    forget(repository) {
        this.rows.delete(repository);
        if (this.current && this.current.set.has(repository))
            this.cancel();
        this.pump();
    }

    // Drop the repositories of the Set GONE (no longer in the catalog):
    // their summaries, and from what is still to be asked for.
    drop(gone) {
        if (!gone.size)
            return;
        for (const n of gone)
            this.rows.delete(n);
        this.visible = this.visible.filter(n => !gone.has(n));
        this.background = this.background.filter(n => !gone.has(n));
        this.backgroundAt = 0;
        this.pump();
    }

    // Forget every summary (a reload): they are asked for again.
    clear() {
        this.rows.clear();
        this.cancel();
        this.interval = POLL_MIN;
        this.pump();
    }

    stop() {
        this.stopped = true;
        this.cancel();
        clearTimeout(this.timer);
    }

    cancel() {
        if (this.current) {
            this.current.stream.close();
            // what the background batch did not get is looked for again
            if (this.current.kind === "background")
                this.backgroundAt = 0;
            this.current = null;
        }
    }

    missingBackground() {
        const out = [];
        while (this.backgroundAt < this.background.length && out.length < BACKGROUND_BATCH) {
            const n = this.background[this.backgroundAt];
            if (!this.rows.has(n))
                out.push(n);
            this.backgroundAt++;
        }
        return out;
    }

    // The next batch: what is on screen and unknown, the background, then
    // the rows on screen whose summary is older than the poll interval.
    next(now) {
        const unknown = this.visible.filter(n => !this.rows.has(n));
        if (unknown.length)
            return { kind: "visible", names: unknown };
        const bg = this.missingBackground();
        if (bg.length)
            return { kind: "background", names: bg };
        if (!this.poll || this.held)
            return null;
        const due = this.visible.filter(n => now - this.rows.get(n).at >= this.interval);
        if (due.length)
            return { kind: "poll", names: due };
        return null;
    }

    schedule(delay) {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => {
            this.timer = null;
            this.pump();
        }, delay);
    }

    pump() {
        if (this.stopped || this.current)
            return;
        const now = Date.now();
        if (now < this.retryAt) {
            this.schedule(this.retryAt - now);
            return;
        }
        const batch = this.next(now);
        if (!batch) {
            // the next poll: when the oldest row on screen falls due
            if (this.poll && !this.held && this.visible.length) {
                const oldest = Math.min(...this.visible.map(n => this.rows.get(n).at));
                this.schedule(Math.max(250, oldest + this.interval - now));
            }
            this.onState();
            return;
        }
        this.start(batch);
    }

    start(batch) {
        const current = { kind: batch.kind, names: batch.names, set: new Set(batch.names), got: 0, changed: false };
        this.current = current;
        this.channels++;
        current.stream = this.open(batch.names, {
            row: row => {
                if (this.current !== current || !row || row.type !== "repository" || !current.set.has(row.repository))
                    return;
                const old = this.rows.get(row.repository);
                if (old && old.row.fingerprint !== row.fingerprint)
                    current.changed = true;
                this.rows.set(row.repository, { row, at: Date.now() });
                current.got++;
                this.onRow(row, old ? old.row : null);
            },
        });
        this.onState();
        current.stream.done.then(() => {
            if (this.current !== current)
                return;
            this.current = null;
            this.error = null;
            this.retry = RETRY_MIN;
            if (current.kind === "poll")
                this.interval = current.changed ? POLL_MIN : Math.min(this.interval * 2, POLL_MAX);
            // names the server did not answer for (none, normally) are not
            // asked again and again: note them as known without data
            for (const n of current.names)
                if (!this.rows.has(n))
                    this.rows.set(n, { row: { repository: n, error: "no answer" }, at: Date.now() });
            this.pump();
        }, e => {
            if (this.current !== current)
                return;         // cancelled by us
            this.current = null;
            this.error = e;
            this.retryAt = Date.now() + this.retry;
            this.retry = Math.min(this.retry * 2, RETRY_MAX);
            if (current.kind === "background")
                this.backgroundAt = 0;
            this.pump();
        });
    }
}
