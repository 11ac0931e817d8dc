import { PostgresDatabases } from '@app/dist-core/bootstrap';
import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { CreateProductDto } from './product.dto.js';
import { StockLedger, type Product } from './stock-ledger.js';

/** The catalogue side of inventory: products are created, looked up and restocked over REST. */
@Injectable()
export class ProductsService {
  private readonly db: DataSource;

  constructor(
    databases: PostgresDatabases,
    private readonly ledger: StockLedger,
  ) {
    this.db = databases.get('inventory');
  }

  async create(dto: CreateProductDto): Promise<Product> {
    // ON CONFLICT decides: two concurrent creates of one SKU cannot both get 201.
    const product = await this.ledger.create(this.db.manager, {
      sku: dto.sku,
      name: dto.name,
      priceCents: dto.priceCents,
      available: dto.stock,
    });
    if (!product) throw new ConflictException(`Product ${dto.sku} already exists`);
    return product;
  }

  async get(sku: string): Promise<Product> {
    const product = await this.ledger.find(this.db.manager, sku);
    if (!product) throw new NotFoundException(`Product ${sku} not found`);
    return product;
  }

  async restock(sku: string, quantity: number): Promise<Product> {
    const result = await this.ledger.restock(this.db.manager, sku, quantity);
    if (result === 'unknown') throw new NotFoundException(`Product ${sku} not found`);
    if (result === 'too-much') {
      throw new ConflictException(`quantity would take product ${sku} past the largest stock`);
    }
    return result;
  }
}
