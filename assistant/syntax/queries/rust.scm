;; Tags for Rust. See python.scm for the capture conventions.

(function_item
  name: (identifier) @name.definition.function) @definition.function

(function_signature_item
  name: (identifier) @name.definition.function) @definition.function

(struct_item
  name: (type_identifier) @name.definition.struct) @definition.struct

(union_item
  name: (type_identifier) @name.definition.union) @definition.union

(enum_item
  name: (type_identifier) @name.definition.enum) @definition.enum

(trait_item
  name: (type_identifier) @name.definition.trait) @definition.trait

(type_item
  name: (type_identifier) @name.definition.type) @definition.type

(impl_item
  type: [
    (type_identifier) @name.definition.impl
    (generic_type type: (type_identifier) @name.definition.impl)
    (scoped_type_identifier name: (type_identifier) @name.definition.impl)
    (generic_type type: (scoped_type_identifier name: (type_identifier) @name.definition.impl))
  ]) @definition.impl

(mod_item
  name: (identifier) @name.definition.module) @definition.module

(const_item
  name: (identifier) @name.definition.constant) @definition.constant

(static_item
  name: (identifier) @name.definition.constant) @definition.constant

(macro_definition
  name: (identifier) @name.definition.macro) @definition.macro

(use_declaration argument: (_) @import)

;; References: every identifier-like leaf (the ranker decides what matters).

(identifier) @name.reference
(type_identifier) @name.reference
(field_identifier) @name.reference

;; Lines an outline keeps verbatim.

(use_declaration) @keep.import
(extern_crate_declaration) @keep.import
(declaration_list (associated_type) @keep.field)
; Members of long structs and enums (short ones are shown whole).
(field_declaration_list (field_declaration) @keep.field)
(enum_variant_list (enum_variant) @keep.field)
