/**
 * Tag on every resource hubfix creates to replace another (ECS.16's task
 * set, EC2.2's replacement security group), valued with the replaced
 * resource's id: an interrupted run's replacement is recognised by it on the
 * next attempt or in a rollback, and a function may create such resources
 * only when the request carries it. Free of the SDK, so synth can read it.
 */
export const REPLACES_TAG = 'hubfix:replaces';
