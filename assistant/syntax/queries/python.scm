;; Tags for Python. Captures: @definition.<kind> with @name.definition.<kind>; @import (module as
;; written); @name.reference (identifiers used); @keep.import / @keep.field (lines an outline keeps).

(function_definition
  name: (identifier) @name.definition.function) @definition.function

(class_definition
  name: (identifier) @name.definition.class) @definition.class

; Module-level assignments only: `X = 1`, `X: int = 1` (kind refined to "constant" when UPPER_CASE).
(module
  (expression_statement
    (assignment
      left: (identifier) @name.definition.variable)) @definition.variable)

; `A, B = range(2)`: each name is a definition of the same statement.
(module
  (expression_statement
    (assignment
      left: [(pattern_list (identifier) @name.definition.variable)
             (tuple_pattern (identifier) @name.definition.variable)])) @definition.variable)

; `type Vector = list[float]` (Python 3.12)
(type_alias_statement
  left: (type (identifier) @name.definition.type)) @definition.type

(import_statement
  name: [
    (dotted_name) @import
    (aliased_import name: (dotted_name) @import)
  ])

(import_from_statement
  module_name: (_) @import)

; `from M import a` also reports "M.a" (".a" for `from . import a`): the name may be a submodule,
; and an index resolving "M.a" finds M/a.py where "M" alone finds only M/__init__.py.
(import_from_statement
  name: [
    (dotted_name) @import.name
    (aliased_import name: (dotted_name) @import.name)
  ])

(future_import_statement) @import.future

;; References: every identifier-like leaf (the ranker decides what matters).

(identifier) @name.reference

;; Lines an outline keeps verbatim.

(import_statement) @keep.import
(import_from_statement) @keep.import
(future_import_statement) @keep.import

(class_definition
  body: (block
    (expression_statement
      [(assignment) (augmented_assignment)]) @keep.field))
