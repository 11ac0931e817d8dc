/** What the peers' order services and participants say to each other, the same in all three. */
export interface OrderLine {
  sku: string;
  quantity: number;
}

export interface PricedLine extends OrderLine {
  unitPriceCents: number;
}

export type ReserveResult =
  | { outcome: 'SUCCESS'; items: PricedLine[]; totalCents: number }
  | { outcome: 'FAILURE'; reason: 'OUT_OF_STOCK' | 'UNKNOWN_PRODUCT' | 'CANCELLED' };

export type ChargeResult =
  | { outcome: 'SUCCESS' }
  | { outcome: 'FAILURE'; reason: 'INSUFFICIENT_FUNDS' | 'UNKNOWN_CUSTOMER' | 'CANCELLED' };

export interface PlaceOrder {
  customerId: string;
  items: OrderLine[];
}

/** The order once terminal, as every peer's order service answers POST /orders. */
export interface PlacedOrder {
  id: string;
  status: 'COMPLETED' | 'CANCELLED';
  reason: string | null;
  /** Epoch ms, the order row's created_at and updated_at (the server's clock). */
  createdAt: number;
  updatedAt: number;
}

/** The participants' HTTP routes (participants/*-service.ts). */
export const ROUTES = {
  reserve: '/reserve',
  confirm: '/confirm',
  release: '/release',
  charge: '/charge',
  refund: '/refund',
} as const;
