// Loading one thing from the ops API: keeps the last answer on screen while a refresh is under
// way, and drops answers that arrive after a newer request or after the view has gone.
import { useCallback, useEffect, useRef, useState } from "react";
import { OpsError } from "../ports";

export type Resource<T> = { data?: T; error?: unknown; loading: boolean };

export function useResource<T>(fetch: () => Promise<T>): Resource<T> & { reload(): void } {
	const [state, setState] = useState<Resource<T>>({ loading: true });
	const latest = useRef(fetch);
	latest.current = fetch;
	const request = useRef(0);
	const reload = useCallback(() => {
		const mine = ++request.current;
		setState((s) => ({ ...s, loading: true }));
		latest.current().then(
			(data) => mine === request.current && setState({ data, loading: false }),
			(error: unknown) => mine === request.current && setState((s) => ({ data: s.data, error, loading: false })),
		);
	}, []);
	useEffect(() => {
		reload();
		// Unmounting makes every answer still under way stale.
		return () => void request.current++;
	}, [reload]);
	return { ...state, reload };
}

/** What went wrong, in a line: the worker's own message when it sent one. */
export function errorText(error: unknown): string {
	if (error instanceof OpsError) return error.status > 0 ? `${error.message} (${error.status} ${error.code})` : error.message;
	return error instanceof Error ? error.message : String(error);
}

export const isNotFound = (error: unknown) => error instanceof OpsError && error.status === 404;
