// celery-node's `dist/app/conf`: `defaultConf()` and the `CeleryConf` type.
export { defaultConf, CeleryConf } from '../../index';
