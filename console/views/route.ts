// Where the operator is. Order and SKU screens open on top of the view they came from.
export type Route = { view: "live" } | { view: "exceptions" } | { view: "order"; key: string } | { view: "sku"; sku: string };

export type ViewName = Route["view"];

/** What a view may ask the app to do. */
export type Navigate = (route: Route) => void;
