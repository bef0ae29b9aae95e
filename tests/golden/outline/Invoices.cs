using System;
using System.Collections.Generic;
using System.Linq;

namespace Shop.Billing
{
    /// <summary>
    /// An invoice with its lines.
    /// </summary>
    [Serializable]
    public class Invoice : EntityBase, IDisposable
    {
        public const int MaxLines = 500;
        private readonly List<Line> _lines = new();

        public string Customer { get; }
        public DateTime IssuedAt { get; private set; } = DateTime.UtcNow;

        public Invoice(string customer)
        {
            Customer = customer ?? throw new ArgumentNullException(nameof(customer));
        }

        /// <summary>Adds a line; fails past <see cref="MaxLines"/>.</summary>
        public void Add(Line line)
        {
            if (_lines.Count >= MaxLines)
            {
                throw new InvalidOperationException("too many lines");
            }
            _lines.Add(line);
        }

        public decimal Total() => _lines.Sum(l => l.Price * l.Quantity);

        public IEnumerable<Line> LinesOver(decimal amount)
        {
            foreach (var line in _lines)
            {
                if (line.Price > amount)
                {
                    yield return line;
                }
            }
        }

        public void Dispose() => _lines.Clear();
    }

    public record Line(string Sku, decimal Price, int Quantity);

    public interface IInvoiceStore
    {
        Invoice? Find(Guid id);
        void Save(Invoice invoice);
    }

    public enum Status
    {
        Draft,
        Sent,
        Paid,
    }
}
