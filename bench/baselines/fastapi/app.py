"""The same routes as catalog-api, written the way a typical team writes them:
FastAPI + SQLAlchemy ORM + Pydantic response models, sync endpoints with a
session-per-request dependency, run under uvicorn with 2 workers.

Only for the benchmarks (scripts/bench.sh). Reads BENCH_DATABASE_URL, a
SQLAlchemy URL such as postgresql+psycopg2://postgres@127.0.0.1:5432/bench.
The schema is the one catalog-api migrates; this app never creates tables.
"""
import datetime
import os
import uuid
from typing import List, Optional

from fastapi import Depends, FastAPI, HTTPException, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import BigInteger, Column, DateTime, Numeric, String, Text, create_engine, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Session, declarative_base, sessionmaker

# pool_size + max_overflow cover the 32 requests a worker may have in flight at
# 64 connections: with fewer, sync endpoints + a yield dependency can exhaust
# the threadpool while waiting for a connection (FastAPI#3205) and stall.
engine = create_engine(os.environ["BENCH_DATABASE_URL"], pool_size=8, max_overflow=32)
SessionLocal = sessionmaker(bind=engine, autocommit=False, autoflush=False)
Base = declarative_base()


class Item(Base):
    __tablename__ = "items"
    id = Column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    name = Column(String(255), nullable=False)
    description = Column(Text)
    created_at = Column(DateTime(timezone=True), nullable=False, server_default=func.now())


class Product(Base):
    __tablename__ = "products"
    source = Column(Text, primary_key=True)
    sku = Column(Text, primary_key=True)
    name = Column(Text, nullable=False)
    description = Column(Text)
    brand = Column(Text)
    category = Column(Text)
    price = Column(Numeric(12, 2))
    currency = Column(String(3))
    availability = Column(Text)
    attributes = Column(JSONB, nullable=False)
    content_hash = Column(BigInteger, nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False)
    updated_at = Column(DateTime(timezone=True), nullable=False)
    deleted_at = Column(DateTime(timezone=True))


class ItemIn(BaseModel):
    name: str = Field(..., min_length=1, max_length=255)
    description: Optional[str] = None


class ItemOut(BaseModel):
    id: uuid.UUID
    name: str
    description: Optional[str]
    created_at: datetime.datetime

    class Config:
        orm_mode = True


class ProductOut(BaseModel):
    source: str
    sku: str
    name: str
    description: Optional[str]
    brand: Optional[str]
    category: Optional[str]
    # Money as catalog-api writes it: the numeric(12,2) as an exact decimal
    # string ("1299.00"), so both servers send the same bytes (pydantic 1, as
    # Debian ships it, turns the Decimal psycopg2 returns into str(v)).
    price: Optional[str]
    currency: Optional[str]
    availability: Optional[str]
    attributes: dict
    created_at: datetime.datetime
    updated_at: datetime.datetime

    class Config:
        orm_mode = True


class ProductPage(BaseModel):
    items: List[ProductOut]
    next_cursor: Optional[str]


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


app = FastAPI(title="catalog-api baseline")


@app.get("/health")
def health(db: Session = Depends(get_db)):
    db.execute(text("SELECT 1"))
    return {"status": "healthy", "database": "connected"}


@app.post("/items", response_model=ItemOut, status_code=201)
def create_item(body: ItemIn, response: Response, db: Session = Depends(get_db)):
    item = Item(name=body.name, description=body.description)
    db.add(item)
    db.commit()
    db.refresh(item)
    response.headers["Location"] = f"/items/{item.id}"
    return item


@app.get("/items", response_model=List[ItemOut])
def list_items(limit: int = Query(100, ge=1, le=1000), db: Session = Depends(get_db)):
    return db.query(Item).order_by(Item.created_at.desc(), Item.id.desc()).limit(limit).all()


@app.get("/products", response_model=ProductPage)
def list_products(limit: int = Query(100, ge=1, le=1000), cursor: Optional[str] = None,
                  db: Session = Depends(get_db)):
    # keyset by (sku, source), as catalog-api's default sort
    q = db.query(Product).filter(Product.deleted_at.is_(None))
    if cursor:
        sku, _, source = cursor.partition("|")
        q = q.filter(func.row(Product.sku, Product.source) > func.row(sku, source))
    rows = q.order_by(Product.sku, Product.source).limit(limit + 1).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = f"{rows[-1].sku}|{rows[-1].source}"
    return {"items": rows, "next_cursor": next_cursor}


@app.get("/products/{source}/{sku}", response_model=ProductOut)
def get_product(source: str, sku: str, db: Session = Depends(get_db)):
    product = db.get(Product, (source, sku))
    if product is None or product.deleted_at is not None:
        raise HTTPException(status_code=404, detail="product not found")
    return product
