import 'reflect-metadata';
import { runService } from '@app/http';
import { todoService } from './service';

runService(todoService);
