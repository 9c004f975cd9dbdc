/**
 * Who may connect to a node and what each may do: {@link io.tern.broker.security.AccessControl} (open,
 * development users, or the files), the users file with its salted PBKDF2 hashes
 * ({@link io.tern.broker.security.UsersFile}, {@link io.tern.broker.security.PasswordHash}) and the
 * permissions file of grants per role and destination pattern ({@link io.tern.broker.security.AccessRules}).
 * The broker asks it at the HELLO, on each send, consumer, browser and unsubscribe, and for a drain;
 * the console for every request. {@code AccessFilesWatch} reads the files again when they change.
 */
package io.tern.broker.security;
