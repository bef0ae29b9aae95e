;; Tags for C#. See python.scm for the capture conventions.

(class_declaration
  name: (identifier) @name.definition.class) @definition.class

(record_declaration
  name: (identifier) @name.definition.class) @definition.class

(struct_declaration
  name: (identifier) @name.definition.struct) @definition.struct

(interface_declaration
  name: (identifier) @name.definition.interface) @definition.interface

(enum_declaration
  name: (identifier) @name.definition.enum) @definition.enum

(delegate_declaration
  name: (identifier) @name.definition.type) @definition.type

(namespace_declaration
  name: [(identifier) (qualified_name)] @name.definition.namespace) @definition.namespace

(method_declaration
  name: (identifier) @name.definition.method) @definition.method

(constructor_declaration
  name: (identifier) @name.definition.method) @definition.method

(destructor_declaration
  name: (identifier) @name.definition.method) @definition.method

(local_function_statement
  name: (identifier) @name.definition.function) @definition.function

(using_directive [(identifier) (qualified_name)] @import)

;; References: every identifier-like leaf (the ranker decides what matters).

(identifier) @name.reference

;; Lines an outline keeps verbatim.

(using_directive) @keep.import
(file_scoped_namespace_declaration) @keep.package
(declaration_list
  [(field_declaration) (property_declaration) (event_field_declaration) (indexer_declaration)] @keep.field)
(enum_member_declaration_list (enum_member_declaration) @keep.field)
