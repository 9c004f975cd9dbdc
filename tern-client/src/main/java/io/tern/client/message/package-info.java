/**
 * The six Jakarta Messaging message types and their body encodings. {@link io.tern.client.message.Conversions}
 * holds the specification's conversion table once, for properties, map entries and stream items.
 */
package io.tern.client.message;
