<?php

declare(strict_types=1);

namespace App\Billing;

use App\Models\{Customer, Invoice};
use Psr\Log\LoggerInterface as Logger;

const DEFAULT_CURRENCY = 'EUR';

/**
 * Creates and settles invoices.
 */
#[Service]
final class InvoiceService implements Settles
{
    use RecordsMetrics;

    public const MAX_LINES = 200;
    private array $cache = [];

    public function __construct(
        private readonly Logger $log,
        private readonly Gateway $gateway,
    ) {
    }

    /** Create an invoice for a customer. */
    public function create(Customer $customer, array $lines): Invoice
    {
        if (count($lines) > self::MAX_LINES) {
            throw new \InvalidArgumentException('too many lines');
        }
        $invoice = Invoice::draft($customer, $lines, DEFAULT_CURRENCY);
        $this->log->info('created invoice {id}', ['id' => $invoice->id]);
        return $this->cache[$invoice->id] = $invoice;
    }

    public function settle(Invoice $invoice): bool
    {
        $paid = $this->gateway->charge($invoice->customer, $invoice->total());
        $this->metric('settled', $paid ? 1 : 0);
        return $paid;
    }
}

interface Settles
{
    public function settle(Invoice $invoice): bool;
}

enum Status: string
{
    case Draft = 'draft';
    case Paid = 'paid';
}

function money(int $cents, string $currency = DEFAULT_CURRENCY): string
{
    return sprintf('%.2f %s', $cents / 100, $currency);
}
