# frozen_string_literal: true

require "json"
require_relative "../pricing/tax"

module Shop
  # Raised when a cart would exceed its limit.
  class CartFull < StandardError; end

  # A shopping cart: items with quantities, priced on demand.
  class Cart
    include Enumerable
    attr_reader :items, :currency

    LIMIT = 50

    def initialize(currency: "EUR")
      @items = {}
      @currency = currency
    end

    def self.from_json(text)
      data = JSON.parse(text)
      new(currency: data.fetch("currency")).tap do |cart|
        data.fetch("items").each { |sku, qty| cart.add(sku, qty) }
      end
    end

    # Add +qty+ of +sku+; raises CartFull past LIMIT distinct items.
    def add(sku, qty = 1)
      raise CartFull, "limit #{LIMIT}" if !@items.key?(sku) && @items.size >= LIMIT
      @items[sku] = @items.fetch(sku, 0) + qty
      self
    end

    def each(&block) = @items.each(&block)

    def total(prices, tax: Pricing::Tax.default)
      subtotal = @items.sum { |sku, qty| prices.fetch(sku) * qty }
      (subtotal * (1 + tax.rate)).round(2)
    end

    private

    def validate!
      raise ArgumentError, "empty cart" if @items.empty?
    end
  end
end
