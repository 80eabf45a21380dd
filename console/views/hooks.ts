// Small hooks the views share: a stream subscription that always calls the latest callbacks, a
// call on each reconnect, and a debounced trigger, so bursts of events cost one refetch.
import { useEffect, useRef } from "react";
import type { Stream, StreamListener } from "../ports";

/** Listens to the stream while the component is mounted; the listener may change on every render. */
export function useStream(stream: Stream, listener: StreamListener): void {
	const latest = useRef(listener);
	latest.current = listener;
	useEffect(
		() =>
			stream.subscribe({
				status: (status) => latest.current.status?.(status),
				events: (events) => latest.current.events?.(events),
				gap: (after, until) => latest.current.gap?.(after, until),
				exception: (item) => latest.current.exception?.(item),
				payout: (change) => latest.current.payout?.(change),
			}),
		[stream],
	);
}

/**
 * Calls `fn` each time the stream is live again after it was not (a reconnect, or a first connect
 * that finished after mount): the stream replays missed flow events but not missed exceptions.
 */
export function useLiveAgain(stream: Stream, fn: () => void): void {
	const wasLive = useRef<boolean | null>(null);
	useStream(stream, {
		status: (status) => {
			const live = status.state === "live";
			if (live && wasLive.current === false) fn();
			wasLive.current = live;
		},
	});
}

/**
 * A stable function that calls `fn` once, `ms` after the first of a burst of calls. Not reset by
 * later calls: under a steady stream a reset would starve the refresh forever.
 */
export function useDebounced(fn: () => void, ms: number): () => void {
	const latest = useRef(fn);
	latest.current = fn;
	const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
	const trigger = useRef(() => {
		if (timer.current !== undefined) return;
		timer.current = setTimeout(() => {
			timer.current = undefined;
			latest.current();
		}, ms);
	});
	useEffect(() => () => clearTimeout(timer.current), []);
	return trigger.current;
}
