// The demo brand: a small apparel catalogue stocked in two warehouses (the fulfilment locations
// in wrangler.toml's [vars.FULFILLMENT]), plus one item that only the Soho store holds.
export const LOCATIONS = ["wh-east", "wh-west"];

export const CATALOGUE = [
	{ sku: "TEE-BLK-S", title: "Classic Tee — Black / S", price: "24.00", stock: [6, 4] },
	{ sku: "TEE-BLK-M", title: "Classic Tee — Black / M", price: "24.00", stock: [10, 8] },
	{ sku: "TEE-BLK-L", title: "Classic Tee — Black / L", price: "24.00", stock: [7, 5] },
	{ sku: "TEE-WHT-M", title: "Classic Tee — White / M", price: "24.00", stock: [9, 9] },
	{ sku: "HOOD-GRY-M", title: "Heavy Hoodie — Grey / M", price: "68.00", stock: [4, 3] },
	{ sku: "HOOD-GRY-L", title: "Heavy Hoodie — Grey / L", price: "68.00", stock: [3, 2] },
	{ sku: "CAP-NVY", title: "Dad Cap — Navy", price: "28.00", stock: [12, 6] },
	{ sku: "SOCK-3PK", title: "Crew Socks 3-pack", price: "18.00", stock: [20, 20] },
	{ sku: "TOTE-NAT", title: "Canvas Tote — Natural", price: "22.00", stock: [8, 0] },
	{ sku: "BEANIE-RED", title: "Rib Beanie — Red (limited)", price: "32.00", stock: [2, 1] },
];

/** Bundles as configured in wrangler.toml ([vars.INVENTORY].bundles): sold as one line, stocked as parts. */
export const BUNDLES = [{ sku: "GIFT-SET", title: "Gift Set — Tee + Cap", price: "45.00" }];

/**
 * Stocked only at a shop that is not a fulfilment location: the web shop sells it (availability
 * counts every location), but no warehouse can ship it, so its orders are unroutable.
 */
export const STORE_ONLY = [{ sku: "PRINT-SOHO", title: "Soho Opening Print (store exclusive)", price: "40.00", location: "store-soho", stock: 40 }];
