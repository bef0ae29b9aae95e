package com.example.inventory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import static java.util.Objects.requireNonNull;

/**
 * Keeps stock levels per SKU and reserves items for orders.
 */
public class InventoryService implements AutoCloseable {
    public static final int MAX_RESERVATION = 1000;
    private final Map<String, Integer> stock = new ConcurrentHashMap<>();
    private final AuditLog audit;

    /** Result of a reservation attempt. */
    public enum Outcome { RESERVED, INSUFFICIENT, UNKNOWN_SKU }

    public interface Listener {
        void stockChanged(String sku, int level);
    }

    public InventoryService(AuditLog audit) {
        this.audit = requireNonNull(audit);
    }

    /**
     * Add units of a SKU.
     * @param sku the stock keeping unit
     */
    public void restock(String sku, int units) {
        if (units <= 0) {
            throw new IllegalArgumentException("units must be positive");
        }
        stock.merge(sku, units, Integer::sum);
        audit.record("restock", sku, units);
    }

    public synchronized Outcome reserve(String sku, int units) {
        Integer level = stock.get(sku);
        if (level == null) {
            return Outcome.UNKNOWN_SKU;
        }
        if (units > MAX_RESERVATION || level < units) {
            return Outcome.INSUFFICIENT;
        }
        stock.put(sku, level - units);
        audit.record("reserve", sku, units);
        return Outcome.RESERVED;
    }

    public List<String> lowStock(int threshold) {
        List<String> low = new ArrayList<>();
        for (Map.Entry<String, Integer> entry : stock.entrySet()) {
            if (entry.getValue() < threshold) {
                low.add(entry.getKey());
            }
        }
        low.sort(String::compareTo);
        return low;
    }

    @Override
    public void close() {
        audit.flush();
    }
}
